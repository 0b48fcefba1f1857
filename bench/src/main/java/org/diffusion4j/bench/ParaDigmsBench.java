package org.diffusion4j.bench;

import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.analytic.SampleStats;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;

/**
 * ParaDiGMS (Shih et al. 2023) against its sequential base sampler on a trained model: wall time, sequential
 * depth (batched denoiser calls one after another), NFE per sample, and the deviation of the samples from
 * the sequential solver's, for each window and tolerance.
 *
 * <p>Usage: {@code bin/bench samplers paradigms [--model RUN] [--steps 50] [--windows 4,8] [--tolerances 0.1]
 * [--base euler|heun] [--n 1] [--threads 2] [--repeats 2]}; without {@code --model} a small two-moons MLP is
 * trained first (about a minute). Samples are float32, the EDM Karras grid of the run's process, class labels
 * {@code seed mod classes} for a class-conditional run. Each configuration runs once to warm up, then the best of
 * {@code --repeats} timed runs is printed.
 */
public final class ParaDigmsBench {
  private ParaDigmsBench() {}

  public static void main(String[] args) throws Exception {
    String modelDir = option(args, "--model", null);
    int steps = Integer.parseInt(option(args, "--steps", "50"));
    int n = Integer.parseInt(option(args, "--n", "1"));
    int threads = Integer.parseInt(option(args, "--threads", "2"));
    int repeats = Math.max(1, Integer.parseInt(option(args, "--repeats", "2")));
    String base = option(args, "--base", "euler");
    int[] windows = Arrays.stream(option(args, "--windows", option(args, "--window", "4,8")).split(","))
        .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    double[] tolerances = Arrays.stream(option(args, "--tolerances", "0.1").split(","))
        .mapToDouble(s -> Double.parseDouble(s.trim())).toArray();
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Path run;
    if (modelDir == null) {
      run = Files.createTempDirectory("d4j-paradigms").resolve("moons");
      System.out.println("no --model: training a two-moons MLP (width 256, 3 blocks, 300 steps) into " + run);
      Training.on("two-moons").objective("edm").network(new MlpConfig(2, 256, 3, 64, 0)).steps(300).train(run).close();
    } else {
      run = Path.of(modelDir);
    }
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      // After the engine has loaded.
      JniUtils.setNumThreads(threads);
      long[] shape = tm.config().sampleShape();
      Grid grid = GridSpec.karras().build(tm.config().process(), steps);
      Denoiser den = tm.denoiser();
      int classes = tm.config().classes();
      long[] labels = new long[n];
      for (int i = 0; i < n; i++) {
        labels[i] = classes > 0 ? i % classes : 0;
      }
      Conditioning c = classes > 0 ? Conditioning.ofLabels(labels) : Conditioning.NONE;
      System.out.printf(Locale.ROOT, "run %s, shape %s, %d sample(s) per call, %s %d steps (Karras σ %s → 0), float32, "
          + "%d intra-op threads, best of %d%n", run, Arrays.toString(shape), n, base, steps, grid.sigma(0), threads,
          repeats);
      Sampler sequential = SamplerRegistry.create(base, Map.of());
      Timed seq = time(den, shape, sequential, grid, n, c, repeats);
      System.out.println("sampler                       seconds  speed-up  depth   NFE  max |Δ| vs sequential  RMS Δ");
      System.out.printf(Locale.ROOT, "%-28s %8.3f  %8.2f  %5s  %4s  %21s  %s%n", base + " (sequential)", seq.seconds, 1.0,
          seq.result.depthText(), seq.result.nfeText(), "—", "—");
      for (int w : windows) {
        for (double tol : tolerances) {
          Sampler p = SamplerRegistry.create("paradigms", Map.of("window", Integer.toString(w), "tolerance",
              Double.toString(tol), "base", base));
          Timed t = time(den, shape, p, grid, n, c, repeats);
          System.out.printf(Locale.ROOT, "%-28s %8.3f  %8.2f  %5s  %4s  %21.3e  %.3e%n",
              "paradigms w " + w + " τ " + tol, t.seconds, seq.seconds / t.seconds, t.result.depthText(),
              t.result.nfeText(), SampleStats.maxAbs(t.result.samples(), seq.result.samples()),
              SampleStats.rms(t.result.samples(), seq.result.samples()));
        }
      }
      System.out.println("(Δ in the model's data units; speed-up = sequential seconds / these seconds)");
    }
  }

  private record Timed(Sampling.Result result, double seconds) {}

  private static Timed time(Denoiser den, long[] shape, Sampler s, Grid grid, int n, Conditioning c, int repeats) {
    Sampling.Result best = null;
    double bestSec = Double.POSITIVE_INFINITY;
    for (int r = 0; r <= repeats; r++) {
      Sampling.Result res = Sampling.of(den, shape).sampler(s).grid(grid).seeds(0, n - 1).batch(n)
          .dtype(DataType.FLOAT32).conditioning(c).run();
      double sec = res.nanos() / 1e9;
      // Run 0 warms up (allocator, kernels for the batch sizes of this configuration).
      if (r > 0 && sec < bestSec) {
        bestSec = sec;
        best = res;
      }
    }
    return new Timed(best, bestSec);
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
