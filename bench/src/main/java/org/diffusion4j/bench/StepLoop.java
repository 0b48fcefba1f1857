package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;

/**
 * One case of {@link TrainBench} (its networks, batches and steps) repeated for a wall-clock time in this process
 * alone, without the PyTorch twin: the median step and the process's CPU time per step. For comparing
 * process-level settings that must be chosen before the JVM starts (glibc's {@code GLIBC_TUNABLES}, libgomp's
 * {@code OMP_WAIT_POLICY}/{@code GOMP_SPINCOUNT}): run it once per setting, alternating, a few times — on a VM
 * the same setting moves by ±15 % from one run to the next.
 *
 * <p>Usage: {@code bin/bench step CASE [--seconds 15] [--threads 1] [--warmup 5]}, CASE one of
 * {@code mlp-train, unet-train, mlp-sample, unet-sample}.
 */
public final class StepLoop {
  private StepLoop() {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bin/bench step: " + e.getMessage());
      System.exit(2);
    }
  }

  private static void run(String[] args) {
    String usage = "usage: bin/bench step mlp-train|unet-train|mlp-sample|unet-sample [--seconds S] [--threads T] "
        + "[--warmup W]";
    if (args.length == 0 || !TrainBench.CASES.contains(args[0])) {
      throw new IllegalArgumentException(usage + "; got " + (args.length == 0 ? "no case" : "'" + args[0] + "'"));
    }
    String kase = args[0];
    double seconds = 15;
    int threads = 1;
    int warmup = 5;
    for (int i = 1; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(usage + "; '" + args[i] + "' needs a value");
      }
      String v = args[i + 1];
      switch (args[i]) {
        case "--seconds" -> seconds = number(args[i], v);
        case "--threads" -> threads = (int) number(args[i], v);
        case "--warmup" -> warmup = (int) number(args[i], v);
        default -> throw new IllegalArgumentException(usage + "; got '" + args[i] + "'");
      }
    }
    if (!(seconds > 0) || threads < 1 || warmup < 0) {
      throw new IllegalArgumentException("--seconds must be > 0, --threads ≥ 1 and --warmup ≥ 0; got " + seconds
          + ", " + threads + ", " + warmup);
    }
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    System.out.printf(Locale.ROOT, "DJL %s, PyTorch %s, %d thread(s); OMP_WAIT_POLICY %s, GOMP_SPINCOUNT %s, "
        + "%s%n", Engine.getDjlVersion(), Engine.getInstance().getVersion(), threads,
        System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset"), System.getenv().getOrDefault("GOMP_SPINCOUNT",
            "unset"), ProcessMemory.allocator());
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (NDManager base = NDManager.newBaseManager()) {
      TrainBench.Cases cases = new TrainBench.Cases(base);
      cases.time(kase, warmup, 0);
      long end = System.nanoTime() + (long) (seconds * 1e9);
      long cpu0 = os.getProcessCpuTime();
      java.util.stream.DoubleStream.Builder steps = java.util.stream.DoubleStream.builder();
      while (System.nanoTime() < end) {
        steps.add(cases.time(kase, 0, 1)[0]);
      }
      double[] ms = steps.build().toArray();
      double cpu = (os.getProcessCpuTime() - cpu0) / 1e6 / ms.length;
      Arrays.sort(ms);
      System.out.printf(Locale.ROOT, "%s: %d steps in %.0f s, median %.2f ms (quartiles %.2f–%.2f), process CPU "
          + "%.2f ms per step%n", TrainBench.WHAT.get(kase), ms.length, seconds, ms[ms.length / 2],
          ms[ms.length / 4], ms[(3 * ms.length) / 4], cpu);
    }
  }

  private static double number(String option, String v) {
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a number, got '" + v + "'");
    }
  }
}
