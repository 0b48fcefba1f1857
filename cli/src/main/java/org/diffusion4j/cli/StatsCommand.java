package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.sampling.ode.EmsEstimator;
import org.diffusion4j.sampling.ode.ModelStatistics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code d4j stats}: DPM-Solver-v3's empirical model statistics of a model (Zheng et al. 2023), estimated on its own
 * PF-ODE trajectories and written to a file for {@code d4j sample --sampler dpm-solver-v3 --param stats=FILE}.
 */
@Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"DPM-Solver-v3's empirical model statistics l, s, b of a model, estimated on its own PF-ODE "
        + "trajectories (DPM-Solver++(2M), >= 200 steps) at knots uniform in lambda = -log sigma, and written as "
        + "JSON for `d4j sample --sampler dpm-solver-v3 --param stats=FILE`.",
        "They depend on the model only (not on the process): any grid whose sigmas, except a final 0, lie in "
            + "[--sigma-min, --sigma-max] can use them. Cost: 5 NFE per trajectory and knot plus the trajectory's own."},
    footer = {"", "Examples:",
        "  d4j stats --model examples/gmm2d.json --out gmm2d-stats.json",
        "  d4j sample --model examples/gmm2d.json --sampler dpm-solver-v3 --param stats=gmm2d-stats.json --steps 6 "
            + "--out x.npy",
        "  d4j stats --model runs/mnist --samples 256 --knots 60 --batch 64 --out mnist-stats.json"})
public final class StatsCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE|RUN",
      description = "A gaussian-mixture JSON file, a trained run directory or a diffusers model directory.")
  Path model;

  @Option(names = "--out", required = true, paramLabel = "FILE.json", description = "The statistics file to write.")
  Path out;

  @Option(names = "--process", paramLabel = "ID",
      description = "The process of a mixture model, whose sigma range is the default (default edm; a run has its own).")
  String process;

  @Option(names = "--sigma-min", paramLabel = "σ", description = "Smallest sigma (last knot); default the process's.")
  Double sigmaMin;

  @Option(names = "--sigma-max", paramLabel = "σ", description = "Largest sigma (first knot, where trajectories "
      + "start); default the process's.")
  Double sigmaMax;

  @Option(names = "--knots", defaultValue = "120", description = "Knots in lambda, >= 2 (default: ${DEFAULT-VALUE}).")
  int knots;

  @Option(names = "--samples", defaultValue = "1024",
      description = "Calibration trajectories, >= 2 (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--seed", defaultValue = "1000000",
      description = "Seed of the first trajectory; trajectory k uses seed + k (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch", paramLabel = "B", description = "Trajectories per model call (default 1024; 64 for images).")
  Integer batch;

  @Option(names = "--weights", defaultValue = "ema", description = "Run weights: ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    SampleCommand.kind(out, "--out", "json");
    try (EvalModel m = EvalModel.open(model, process, weights)) {
      m.requireDenoiser("d4j stats", false);
      double lo = sigmaMin != null ? sigmaMin : m.process.sigmaMin();
      double hi = sigmaMax != null ? sigmaMax : m.process.sigmaMax();
      int b = batch != null ? batch : m.images() ? 64 : 1024;
      EmsEstimator.Calibration cal = new EmsEstimator.Calibration(lo, hi, knots, samples, seed, b);
      long t0 = System.nanoTime();
      String source = m.describe(model) + "; " + samples + " trajectories from seed " + seed + ", " + knots + " knots";
      ModelStatistics st = EmsEstimator.estimate(m.denoiser, m.shape, cal, m.manager, m.dtype, source);
      st.write(out);
      w.printf(Locale.ROOT, "stats     %s%n", source);
      w.printf(Locale.ROOT, "range     sigma %.6g .. %.6g (lambda %.4f .. %.4f)%n", st.sigmaMin(), st.sigmaMax(),
          st.lambdas()[0], st.lambdas()[st.lambdas().length - 1]);
      w.printf(Locale.ROOT, "mean l    %.4f at sigma_max, %.4f at sigma_min%n", mean(st.l()[0]),
          mean(st.l()[st.l().length - 1]));
      w.printf(Locale.ROOT, "time      %.1f s%n", (System.nanoTime() - t0) / 1e9);
      w.printf(Locale.ROOT, "wrote     %s (use: --sampler dpm-solver-v3 --param stats=%s)%n", out, out);
      w.flush();
    }
    return 0;
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }
}
