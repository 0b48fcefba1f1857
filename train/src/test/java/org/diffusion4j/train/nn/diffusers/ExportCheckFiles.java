package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.io.Npy;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.sampling.ode.Ddim;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.schedule.Grid;

/**
 * The files of {@code src/test/resources/diffusers-export}: a class-conditional UNet2DModel trained here for a few
 * steps and exported with {@link DiffusersExport} ({@code model/}), fixed inputs and our outputs on them
 * ({@code expected/}), which {@code check_export.py} compares with what diffusers computes from {@code model/}.
 * {@link DiffusersExportCheckTest} checks that our loader still gives the stored outputs bit for bit.
 *
 * <p>Regenerate (one thread, as the tests run, so that the outputs are bit for bit those of the suite):
 * {@code OMP_NUM_THREADS=1 java -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -cp
 * train/target/test-classes:train/target/classes:core/target/classes:cli/target/lib/*
 * org.diffusion4j.train.nn.diffusers.ExportCheckFiles train/src/test/resources/diffusers-export}: trains and
 * exports {@code model/} when it is absent, then writes {@code expected/} from it; then run check_export.py.
 */
final class ExportCheckFiles {
  /** The timesteps of the single forward pass (one fractional, as Euler-type schedulers pass them). */
  static final double[] TIMESTEPS = {0, 417.25, 999, 61};
  /** Labels: classes 0 and 1 and the null label (row 2). */
  static final long[] LABELS = {0, 1, 2, 1};

  private ExportCheckFiles() {}

  /** Standard normal float32 values of {@code new SplittableRandom(seed)} (Box–Muller). */
  static double[] normals(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      double u = 1 - r.nextDouble();
      v[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
    }
    return v;
  }

  /** Our outputs on the model: forward (float32 values), DDIM leading 10 and Euler linspace 15 (VP coordinates). */
  record Outputs(double[] forward, double[] ddim, double[] euler) {}

  static Outputs compute(DiffusersModel dm) {
    double[] x = normals(4 * 64, 11);
    double[] init = normals(4 * 64, 12);
    double[] forward;
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray in = m.create(x, new Shape(4, 1, 8, 8)).toType(DataType.FLOAT32, false);
      forward = dm.unet().apply(new ParameterStore(m, false), in, TIMESTEPS, LABELS, false)
          .toType(DataType.FLOAT64, false).toDoubleArray();
    }
    Conditioning c = Conditioning.NONE.withLabels(LABELS);
    double[] ddim = loop(dm.denoiser(), new Ddim(0), DiffusersGrids.ddim(dm.process(), 10, "leading", 0), init, c);
    double[] euler = loop(dm.denoiser(TimestepMapping.LINEAR), new Euler(),
        DiffusersGrids.euler(dm.process(), 15, "linspace", 0), init, c);
    return new Outputs(forward, ddim, euler);
  }

  /** A sampler loop from {@code init} in process coordinates (diffusers' latents x_t), returned as x_t. */
  private static double[] loop(DiffusersDenoiser d, Sampler s, Grid g, double[] init, Conditioning c) {
    Sampling.Result r = Sampling.of(d, 1, 8, 8).sampler(s).grid(g).seeds(0, 3).conditioning(c).initial(init).run();
    double[] out = r.samples().clone();
    double sEnd = g.s(g.size() - 1);
    for (int i = 0; i < out.length; i++) {
      out[i] *= sEnd;
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Path model = dir.resolve("model");
    if (!Files.exists(model)) {
      Path work = Files.createTempDirectory("d4j-export-check");
      Path run = work.resolve("run");
      DiffusersTrainingTest.training(DiffusersTrainingTest.bars(work), 0.1, 20).train(run).close();
      DiffusersExport.write(run, true, model);
    }
    Path ex = dir.resolve("expected");
    Files.createDirectories(ex);
    Npy.write(ex.resolve("forward_x.npy"), normals(4 * 64, 11), new long[] {4, 1, 8, 8}, true);
    Npy.write(ex.resolve("loop_init_noise.npy"), normals(4 * 64, 12), new long[] {4, 1, 8, 8}, true);
    try (DiffusersModel dm = DiffusersModel.load(model)) {
      Outputs o = compute(dm);
      Npy.write(ex.resolve("forward_out.npy"), o.forward(), new long[] {4, 1, 8, 8}, true);
      Npy.write(ex.resolve("loop_ddim_eta0_leading_10.npy"), o.ddim(), new long[] {4, 1, 8, 8}, false);
      Npy.write(ex.resolve("loop_euler_linspace_15.npy"), o.euler(), new long[] {4, 1, 8, 8}, false);
    }
    Files.writeString(ex.resolve("inputs.json"), "{\"timesteps\": [0, 417.25, 999, 61], \"class_labels\": [0, 1, 2, 1],"
        + " \"forward\": \"unet(forward_x, timesteps, class_labels).sample, float32\", \"loops\": \"x = loop_init_noise;"
        + " for t in scheduler.timesteps: x = step(unet(scale_model_input(x, t), t, class_labels), t, x) with"
        + " DDIMScheduler (eta 0, leading, 10 steps) and EulerDiscreteScheduler (linspace, 15 steps; x starts at"
        + " init_noise_sigma · noise)\"}\n");
  }
}
