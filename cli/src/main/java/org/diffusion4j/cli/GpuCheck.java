package org.diffusion4j.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.device.Devices;
import org.diffusion4j.io.Npy;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * {@code bin/gpu-check}: on a machine with a GPU, trains the default MNIST U-Net for 200 steps and samples 64
 * images on the GPU, printing step times, then repeats the first steps on the CPU from the same initial weights
 * and batches and compares the losses. Without a GPU it says so and exits 3.
 */
public final class GpuCheck {
  /** Exit code when no GPU is visible. */
  public static final int NO_GPU = 3;
  /** Largest relative difference accepted between a GPU and a CPU loss of the first steps. */
  public static final double TOLERANCE = 1e-2;

  private GpuCheck() {}

  public static void main(String[] args) throws IOException {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(out, err, args));
  }

  /** Runs the check; returns the exit code (0 passed, 1 losses apart, 2 bad usage, 3 no GPU). */
  public static int run(PrintWriter out, PrintWriter err, String... args) throws IOException {
    String data = option(args, "--data", "mnist:../shared/data/mnist");
    int steps = Integer.parseInt(option(args, "--steps", "200"));
    int compare = Integer.parseInt(option(args, "--compare", "5"));
    int batch = Integer.parseInt(option(args, "--batch", "64"));
    String device = option(args, "--device", "gpu:0");
    String outDir = option(args, "--out", null);
    if (steps < 1 || compare < 1 || compare > steps || batch < 1) {
      err.println("gpu-check: error: need --steps >= 1, 1 <= --compare <= --steps and --batch >= 1");
      return 2;
    }
    Engine e = Engine.getInstance();
    int gpus = Devices.gpuCount();
    if (gpus == 0) {
      String lib = System.getenv("PYTORCH_LIBRARY_PATH");
      err.printf(Locale.ROOT, "gpu-check: no GPU present: DJL's PyTorch engine reports %d GPUs (PyTorch %s, CUDA build: "
          + "%s, PYTORCH_LIBRARY_PATH %s). Nothing to check here; on a GPU machine build with -Pgpu and set "
          + "PYTORCH_LIBRARY_PATH to a CUDA libtorch (README, section GPU).%n", e.getGpuCount(), e.getVersion(),
          e.hasCapability(StandardCapabilities.CUDA) ? "yes" : "no", lib == null ? "unset" : "= " + lib);
      return NO_GPU;
    }
    Path dir = outDir != null ? Path.of(outDir) : Files.createTempDirectory("d4j-gpu-check");
    Device gpu;
    try {
      gpu = Devices.parse(device);
    } catch (IllegalArgumentException ex) {
      err.println("gpu-check: error: " + ex.getMessage());
      return 2;
    }
    out.printf(Locale.ROOT, "gpu-check: %d GPU(s), PyTorch %s; training %d steps of batch %d on %s (%s)%n", gpus,
        e.getVersion(), steps, batch, gpu, data);
    List<double[]> onGpu = new ArrayList<>();
    try (TrainedModel tm = train(data, steps, batch, gpu, dir.resolve("gpu"), steps, onGpu)) {
      double[] dt = new double[onGpu.size()];
      for (int i = 0; i < dt.length; i++) {
        dt[i] = onGpu.get(i)[1] - (i == 0 ? 0 : onGpu.get(i - 1)[1]);
      }
      double[] later = Arrays.copyOfRange(dt, Math.min(10, dt.length - 1), dt.length);
      Arrays.sort(later);
      out.printf(Locale.ROOT, "step time: first %.3f s (with start-up), median after step 10 %.4f s%n", dt[0],
          later[later.length / 2]);
      long t0 = System.nanoTime();
      Sampling.Result r = Sampling.of(tm.denoiser(), tm.config().sampleShape())
          .sampler(SamplerRegistry.create("dpmpp-2m", Map.of())).grid(GridSpec.karras().build(tm.config().process(), 18))
          .seeds(0, 63).batch(64).dtype(DataType.FLOAT32).device(gpu).run();
      out.printf(Locale.ROOT, "sampled 64 images on %s (dpmpp-2m, 18 steps, NFE %s) in %.2f s%n", gpu, r.nfeText(),
          (System.nanoTime() - t0) / 1e9);
      long[] shape = new long[tm.config().sampleShape().length + 1];
      shape[0] = 64;
      System.arraycopy(tm.config().sampleShape(), 0, shape, 1, shape.length - 1);
      Npy.write(dir.resolve("samples.npy"), r.samples(), shape, true);
      out.println("wrote " + dir.resolve("samples.npy"));
    }
    List<double[]> onCpu = new ArrayList<>();
    train(data, steps, batch, Device.cpu(), dir.resolve("cpu"), compare, onCpu).close();
    boolean ok = true;
    out.printf(Locale.ROOT, "first %d losses, GPU vs CPU (same initial weights and batches; tolerance %.0e relative: "
        + "TF32/cuDNN arithmetic)%n", compare, TOLERANCE);
    for (int i = 0; i < compare; i++) {
      double g = onGpu.get(i)[0];
      double c = onCpu.get(i)[0];
      double rel = Math.abs(g - c) / Math.max(Math.abs(c), 1e-12);
      ok &= rel <= TOLERANCE;
      out.printf(Locale.ROOT, "  step %d  gpu %.6f  cpu %.6f  rel. diff %.2e%s%n", i + 1, g, c, rel,
          rel <= TOLERANCE ? "" : "  > tolerance");
    }
    out.println(ok ? "gpu-check: passed" : "gpu-check: FAILED: GPU and CPU losses differ beyond the tolerance");
    return ok ? 0 : 1;
  }

  /** Trains into {@code dir}, recording (loss, elapsed seconds) of every step, stopping after {@code stopAt}. */
  private static TrainedModel train(String data, int steps, int batch, Device device, Path dir, int stopAt,
      List<double[]> log) throws IOException {
    Trainer[] trainer = new Trainer[1];
    Training t = Training.on(data).steps(steps).batch(batch).logEvery(1).checkpointEvery(steps).device(device)
        .listener(new Trainer.Listener() {
          @Override
          public void onLog(Trainer.StepLog s) {
            log.add(new double[] {s.loss(), s.seconds()});
            if (s.step() >= stopAt && trainer[0] != null) {
              trainer[0].requestStop();
            }
          }
        });
    return t.run(t.plan(), dir, tr -> trainer[0] = tr);
  }

  private static String option(String[] args, String name, String def) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
