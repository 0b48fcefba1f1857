package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * Memory over long runs: MLP training steps (the Trainer's step: EDM loss, backward, AdamW, zeroing,
 * gradient norm, EMA; batch 512×2 by default) and U-Net sampling steps (one denoiser call on 32×1×28×28 by
 * default), with the
 * live NDArrays (DJL's system manager and every manager under it), the resident set size, its Java-heap and
 * native parts ({@link ProcessMemory}), what the JVM itself has committed outside the heap (Native Memory Tracking:
 * code cache, metaspace, GC structures, thread stacks; for reading, not judged — committed is not resident, and the
 * full soak showed it rising and falling by 30 MB while the native RSS moved by less) and the minor page faults per
 * step printed every 10 %, and a verdict: live arrays equal at every mark, and RSS and its native part each within
 * 1 % of their values at the first mark (the first 10 % are the warm-up: allocator pools and JIT).
 *
 * <p>Usage: {@code bin/bench soak [--mlp-steps 100000] [--unet-steps 10000] [--threads T] [--mlp-batch 512]
 * [--unet-batch 32]}. What leaks is per step, not per sample, so smaller batches check the same loops in a
 * fraction of the time.
 */
public final class SoakBench {
  private SoakBench() {}

  /** One mark: steps done, live arrays, RSS, its Java-heap part and the JVM's non-heap committed memory in MB. */
  private record Mark(long steps, long arrays, double rssMb, double heapMb, double jvmMb) {
    double nativeMb() {
      return rssMb - (Double.isNaN(heapMb) ? 0 : heapMb);
    }
  }

  public static void main(String[] args) throws IOException {
    Map<String, Long> opt = new LinkedHashMap<>();
    opt.put("mlp-steps", 100_000L);
    opt.put("unet-steps", 10_000L);
    opt.put("threads", 2L);
    opt.put("mlp-batch", 512L);
    opt.put("unet-batch", 32L);
    for (int i = 0; i < args.length; i += 2) {
      String key = args[i].startsWith("--") ? args[i].substring(2) : args[i];
      if (!opt.containsKey(key) || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: bin/bench soak [--mlp-steps N] [--unet-steps N] [--threads T] "
            + "[--mlp-batch B] [--unet-batch B]; "
            + "got '" + args[i] + "'");
      }
      long v = Long.parseLong(args[i + 1]);
      long min = key.endsWith("steps") ? 10 : 1;
      if (v < min) {
        throw new IllegalArgumentException("--" + key + " must be ≥ " + min + (min == 10 ? " (marks every 10 %)" : "")
            + ", got " + v);
      }
      opt.put(key, v);
    }
    System.setProperty("ai.djl.pytorch.num_threads", Long.toString(opt.get("threads")));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    System.out.printf(Locale.ROOT, "DJL %s, PyTorch %s, %d thread(s); MLP batch %d, U-Net batch %d; "
        + "%s.%n", Engine.getDjlVersion(), Engine.getInstance().getVersion(), opt.get("threads"),
        opt.get("mlp-batch"), opt.get("unet-batch"), ProcessMemory.allocator());
    boolean flat = true;
    try (NDManager base = NDManager.newBaseManager()) {
      Shape mlpShape = new Shape(opt.get("mlp-batch"), 2);
      Block mlp = MlpConfig.toy(2).build();
      mlp.initialize(base, DataType.FLOAT32, mlpShape);
      TrainBench.Trainee t = new TrainBench.Trainee(base, mlp, mlpShape);
      t.trainerExtras = true;
      flat &= soak(base, "MLP training steps (Trainer step incl. grad norm + EMA)", opt.get("mlp-steps"),
          () -> t.step(null));
      Shape unetShape = new Shape(opt.get("unet-batch"), 1, 28, 28);
      Block unet = UNetConfig.mnist().build();
      unet.initialize(base, DataType.FLOAT32, unetShape);
      TrainBench.Sampler s = new TrainBench.Sampler(unet, unetShape);
      flat &= soak(base, "U-Net sampling steps", opt.get("unet-steps"), () -> s.step(null));
    }
    System.out.println(flat
        ? "VERDICT: flat within 1 % (live arrays constant; RSS and native RSS within 1 % of the 10 % mark)."
        : "VERDICT: NOT flat.");
  }

  private static boolean soak(NDManager base, String what, long steps, Runnable step) throws IOException {
    System.out.printf(Locale.ROOT, "%n%s: %,d%n%8s %10s %12s %10s %13s %10s %14s %12s %10s%n", what, steps,
        "done", "steps", "live arrays", "RSS MB", "Java heap MB", "native MB", "JVM non-heap", "faults/step",
        "ms/step");
    List<Mark> marks = new ArrayList<>();
    long done = 0;
    long t0 = System.nanoTime();
    for (int k = 1; k <= 10; k++) {
      long target = steps * k / 10;
      long start = System.nanoTime();
      long faults = ProcessMemory.minorFaults();
      long n = target - done;
      for (; done < target; done++) {
        step.run();
      }
      double ms = (System.nanoTime() - start) / 1e6 / Math.max(1, n);
      double faultsPerStep = (ProcessMemory.minorFaults() - faults) / (double) Math.max(1, n);
      Mark m = new Mark(done, liveArrays(base), ProcessMemory.rssMb(), ProcessMemory.javaHeapRssMb(),
          ProcessMemory.jvmNonHeapCommittedMb());
      marks.add(m);
      System.out.printf(Locale.ROOT, "%7d%% %,10d %12d %10.1f %13.1f %10.1f %14.1f %12.1f %10.2f%n", 10 * k,
          m.steps(), m.arrays(), m.rssMb(), m.heapMb(), m.nativeMb(), m.jvmMb(), faultsPerStep, ms);
    }
    Mark first = marks.get(0);
    double worst = 0;
    double worstNative = 0;
    boolean arrays = true;
    for (Mark m : marks) {
      worst = Math.max(worst, Math.abs(m.rssMb() - first.rssMb()) / first.rssMb());
      worstNative = Math.max(worstNative, Math.abs(m.nativeMb() - first.nativeMb()) / first.nativeMb());
      arrays &= m.arrays() == first.arrays();
    }
    boolean ok = arrays && worst <= 0.01 && worstNative <= 0.01;
    Mark last = marks.get(marks.size() - 1);
    System.out.printf(Locale.ROOT, "%s: live arrays %s; max drift from the 10 %% mark: RSS %.2f %%, native %.2f %% "
        + "(at the end %+.1f / %+.1f MB) -> %s (%.0f s)%n", what, arrays ? "constant (" + first.arrays() + ")"
        : "CHANGED", 100 * worst, 100 * worstNative, last.rssMb() - first.rssMb(), last.nativeMb() - first.nativeMb(),
        ok ? "flat" : "NOT flat", (System.nanoTime() - t0) / 1e9);
    return ok;
  }

  /** Arrays alive in DJL's system manager and all managers under it. */
  static long liveArrays(NDManager base) {
    return base.getParentManager().getManagedArrays().size();
  }
}
