package org.diffusion4j.bench;

import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;

/**
 * Sampling throughput against the number of workers ({@code Sampling.workers}): the same seeds sampled by W
 * workers with T intra-op threads each, every configuration checked bit for bit against the first.
 *
 * <p>Usage: {@code bin/bench shards [--model RUN] [--n N] [--batch B] [--steps S] [--sampler ID]
 * [--configs WxT,WxT,…]} (default configs 1x1,2x1,1x2; without --model a small two-moons MLP is trained first).
 */
public final class ShardBench {
  private ShardBench() {}

  public static void main(String[] args) throws Exception {
    String modelDir = option(args, "--model", null);
    int n = Integer.parseInt(option(args, "--n", modelDir == null ? "20000" : "256"));
    int steps = Integer.parseInt(option(args, "--steps", "10"));
    String sampler = option(args, "--sampler", "dpmpp-2m");
    String[] configs = option(args, "--configs", "1x1,2x1,1x2").split(",");
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Path run;
    if (modelDir == null) {
      run = Files.createTempDirectory("d4j-shards").resolve("moons");
      System.out.println("training a two-moons MLP (width 256, 3 blocks, 300 steps) into " + run);
      Training.on("two-moons").objective("edm").network(new MlpConfig(2, 256, 3, 64, 0)).steps(300).train(run).close();
    } else {
      run = Path.of(modelDir);
    }
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      long[] shape = tm.config().sampleShape();
      boolean images = shape.length == 3;
      int batch = Integer.parseInt(option(args, "--batch", images ? "32" : "1000"));
      Grid grid = GridSpec.karras().build(tm.config().process(), steps);
      Denoiser den = tm.denoiser();
      Conditioning c = tm.config().classes() > 0 ? Conditioning.label(Conditioning.NULL_LABEL, n) : Conditioning.NONE;
      System.out.printf(Locale.ROOT, "run %s, shape %s, %d samples, batch %d, %s %d steps, %d cores, OMP_NUM_THREADS=%s%n",
          run, Arrays.toString(shape), n, batch, sampler, steps, Runtime.getRuntime().availableProcessors(),
          System.getenv("OMP_NUM_THREADS"));
      System.out.println("workers  threads  seconds  samples/s  speed-up  identical");
      double[] first = null;
      double base = 0;
      // Warm-up: one batch (allocator, kernels).
      Sampling.of(den, shape).sampler(SamplerRegistry.create(sampler, Map.of())).grid(grid).seeds(0, batch - 1)
          .batch(batch).dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(c.slice(0, Math.min(n, batch))).run();
      for (String cfg : configs) {
        String[] wt = cfg.trim().split("x");
        int w = Integer.parseInt(wt[0]);
        int t = Integer.parseInt(wt[1]);
        JniUtils.setNumThreads(t);
        Sampling.Result r = Sampling.of(den, shape).sampler(SamplerRegistry.create(sampler, Map.of())).grid(grid)
            .seeds(0, n - 1).batch(batch).dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(c).workers(w).run();
        double sec = r.nanos() / 1e9;
        if (first == null) {
          first = r.samples();
          base = sec;
        }
        System.out.printf(Locale.ROOT, "%7d  %7d  %7.2f  %9.1f  %8.2f  %s%n", w, t, sec, n / sec, base / sec,
            Arrays.equals(first, r.samples()) ? "yes" : "NO");
      }
    }
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
