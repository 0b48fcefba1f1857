package org.diffusion4j.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SampleResult;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * Analytic oracles for sampler tests (house style 17–18): the single Gaussian N(μ, s²I), whose PF-ODE
 * in x̂ solves in closed form, {@code x̂(σ) = μ + (x̂(σ₀) − μ)·sqrt((s²+σ²)/(s²+σ₀²))}; Gaussian
 * mixtures with the {@link ExactFlow} reference; and an empirical order-of-convergence harness.
 */
public final class Oracle {
  private Oracle() {}

  /** A 1-D… d-D Gaussian with mean 0.7 and std 0.5 per coordinate. */
  public static GaussianMixture gaussian(int dim) {
    double[] mu = new double[dim];
    java.util.Arrays.fill(mu, 0.7);
    return GaussianMixture.gaussian(mu, 0.5);
  }

  /** A 2-D three-component mixture for multimodal checks. */
  public static GaussianMixture mixture() {
    return new GaussianMixture(new double[] {0.5, 0.3, 0.2},
        new double[][] {{-1.0, 0.5}, {1.2, -0.4}, {0.2, 1.5}}, new double[] {0.3, 0.5, 0.2});
  }

  /** Closed-form PF-ODE of a single Gaussian N(μ, s²I) in x̂ from σ₀ to σ. */
  public static double[] gaussianFlow(double[] mu, double s, double[] x, double sigma0, double sigma) {
    int d = mu.length;
    double r = Math.sqrt((s * s + sigma * sigma) / (s * s + sigma0 * sigma0));
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = mu[i % d] + (x[i] - mu[i % d]) * r;
    }
    return out;
  }

  /** n·d standard normals from seeds 0..n−1. */
  public static double[] normals(int n, int d) {
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = 1000 + i;
    }
    SeededNoise s = new SeededNoise(seeds);
    double[] out = new double[n * d];
    for (int k = 0; k < n; k++) {
      System.arraycopy(s.next(k, d), 0, out, k * d, d);
    }
    return out;
  }

  /** The prior state in process coordinates at grid point 0: {@code x = s_0·σ_0·ε} (plus the mean's scale). */
  public static double[] prior(Grid grid, double[] eps) {
    double[] x = new double[eps.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = grid.s(0) * grid.sigma(0) * eps[i];
    }
    return x;
  }

  /** Runs a sampler on host data and returns the final state (process coordinates) as doubles. */
  public static Run run(Sampler sampler, Denoiser model, Grid grid, double[] x, int dim, DataType dtype,
      NoiseSource noise) {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xa = m.create(x, new Shape(x.length / dim, dim)).toType(dtype, false);
      SampleResult r = sampler.sample(model, grid, xa, noise, StepListener.NONE);
      return new Run(r.x().toType(DataType.FLOAT64, false).toDoubleArray(), r.nfe());
    }
  }

  /** A run's output and cost. */
  public record Run(double[] x, int nfe) {}

  /** Root-mean-square difference. */
  public static double rms(double[] a, double[] b) {
    return org.diffusion4j.analytic.SampleStats.rms(a, b);
  }

  /** Max absolute difference. */
  public static double maxAbs(double[] a, double[] b) {
    return org.diffusion4j.analytic.SampleStats.maxAbs(a, b);
  }

  /**
   * Error of a deterministic sampler against the exact flow of {@code gm} between the grid's first and
   * last σ, on {@code n} prior draws (compared in x̂ = x/s at the last point).
   */
  public static double error(Sampler sampler, GaussianMixture gm, Grid grid, int n) {
    double[] eps = normals(n, gm.dim());
    double[] x = prior(grid, eps);
    double[] xHat0 = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xHat0[i] = x[i] / grid.s(0);
    }
    double last = grid.sigma(grid.size() - 1);
    double[] ref = gm.components() == 1
        ? gaussianFlow(gm.means()[0], gm.stds()[0], xHat0, grid.sigma(0), last)
        : ExactFlow.solve(gm, xHat0, grid.sigma(0), last);
    Run r = run(sampler, gm.denoiser(), grid, x, gm.dim(), DataType.FLOAT64, NoiseSource.NONE);
    double sLast = grid.s(grid.size() - 1);
    double[] got = new double[r.x().length];
    for (int i = 0; i < got.length; i++) {
      got[i] = r.x()[i] / sLast;
    }
    return rms(got, ref);
  }

  /**
   * Empirical order of convergence: the slope of log(error) against log(steps) between the two
   * largest step counts of a geometric grid family built by {@code grids}.
   */
  public static double order(Sampler sampler, GaussianMixture gm, java.util.function.IntFunction<Grid> grids,
      int stepsLo, int stepsHi) {
    double e1 = error(sampler, gm, grids.apply(stepsLo), 16);
    double e2 = error(sampler, gm, grids.apply(stepsHi), 16);
    return Math.log(e1 / e2) / Math.log((double) stepsHi / stepsLo);
  }

  /** A grid that is geometric in σ from σ_max to σ_min (no final zero): smooth step sizes for order tests. */
  public static Grid geometric(NoiseProcess p, double sigmaMax, double sigmaMin, int steps) {
    double[] sg = new double[steps + 1];
    for (int i = 0; i <= steps; i++) {
      sg[i] = sigmaMax * Math.pow(sigmaMin / sigmaMax, (double) i / steps);
    }
    return Grid.ofSigmas(p, sg);
  }
}
