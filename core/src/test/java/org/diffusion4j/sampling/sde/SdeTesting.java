package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.testing.Oracle;

/**
 * Moment checks for stochastic samplers (house style 20): start from exact samples of p at the grid's
 * first σ, run with seeded noise, and compare the per-coordinate sample mean and variance of x̂ = x/s
 * at the last point with the exact marginal, within {@code k} standard errors plus a stated
 * discretisation allowance.
 */
final class SdeTesting {
  /** Samples per moment test; standard errors scale as 1/sqrt(N). */
  static final int N = 4000;
  /** Standard errors allowed for sampling noise (a 4σ band per statistic). */
  static final double K = 4;

  private SdeTesting() {}

  /** Seeds 0..n−1 for the start and {@code offset + k} for the noise. */
  static long[] seeds(int n, long offset) {
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = offset + i;
    }
    return s;
  }

  /** Exact draws of p at grid point 0, in process coordinates. */
  static double[] start(GaussianMixture gm, Grid grid, int n) {
    double[] xHat = gm.sample(seeds(n, 0), grid.sigma(0));
    for (int i = 0; i < xHat.length; i++) {
      xHat[i] *= grid.s(0);
    }
    return xHat;
  }

  /** Runs {@code sampler} from {@code x} with per-sample seeds and returns x̂ at the last point. */
  static double[] runHat(Sampler sampler, GaussianMixture gm, Grid grid, double[] x, NoiseSource noise) {
    Oracle.Run r = Oracle.run(sampler, gm.denoiser(), grid, x, gm.dim(), DataType.FLOAT64, noise);
    double s = grid.s(grid.size() - 1);
    double[] out = r.x();
    for (int i = 0; i < out.length; i++) {
      out[i] /= s;
    }
    return out;
  }

  /** A full moment run: exact start, noise seeds 10⁶ + k, result x̂ at the last point. */
  static double[] sample(Sampler sampler, GaussianMixture gm, Grid grid, int n) {
    return runHat(sampler, gm, grid, start(gm, grid, n), new SeededNoise(seeds(n, 1_000_000)));
  }

  /** Per-coordinate sample mean and (unbiased) variance: {mean[], var[]}. */
  static double[][] moments(double[] x, int dim) {
    int n = x.length / dim;
    double[] m = new double[dim];
    double[] v = new double[dim];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dim; j++) {
        m[j] += x[i * dim + j];
      }
    }
    for (int j = 0; j < dim; j++) {
      m[j] /= n;
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < dim; j++) {
        double d = x[i * dim + j] - m[j];
        v[j] += d * d;
      }
    }
    for (int j = 0; j < dim; j++) {
      v[j] /= n - 1;
    }
    return new double[][] {m, v};
  }

  /** Exact fourth central moment per coordinate of p_σ (for the variance's standard error). */
  static double[] fourthMoment(GaussianMixture gm, double sigma) {
    double[] m = gm.mean();
    double[] out = new double[gm.dim()];
    for (int k = 0; k < gm.components(); k++) {
      double w = gm.stds()[k] * gm.stds()[k] + sigma * sigma;
      for (int j = 0; j < gm.dim(); j++) {
        double d = gm.means()[k][j] - m[j];
        out[j] += gm.weights()[k] * (d * d * d * d + 6 * d * d * w + 3 * w * w);
      }
    }
    return out;
  }

  /**
   * Worst deviation, in units of "allowed", of the sample mean and variance of {@code xHat} from
   * p_σ's: each statistic may differ by K standard errors plus {@code bias} (relative to the std for
   * the mean, to the variance for the variance). A value ≤ 1 passes.
   */
  static double score(double[] xHat, GaussianMixture gm, double sigma, double bias) {
    int n = xHat.length / gm.dim();
    double[][] mv = moments(xHat, gm.dim());
    double[] m = gm.mean();
    double[] v = gm.variance(sigma);
    double[] m4 = fourthMoment(gm, sigma);
    double worst = 0;
    for (int j = 0; j < gm.dim(); j++) {
      double allowM = K * Math.sqrt(v[j] / n) + bias * Math.sqrt(v[j]);
      double allowV = K * Math.sqrt((m4[j] - v[j] * v[j]) / n) + bias * v[j];
      worst = Math.max(worst, Math.abs(mv[0][j] - m[j]) / allowM);
      worst = Math.max(worst, Math.abs(mv[1][j] - v[j]) / allowV);
    }
    return worst;
  }

  /** Asserts {@link #score} ≤ 1, with the moments in the message. */
  static void assertMoments(String what, double[] xHat, GaussianMixture gm, double sigma, double bias) {
    double s = score(xHat, gm, sigma, bias);
    double[][] mv = moments(xHat, gm.dim());
    assertTrue(s <= 1, what + ": moments off by " + s + " of the allowance; mean "
        + java.util.Arrays.toString(mv[0]) + " vs " + java.util.Arrays.toString(gm.mean()) + ", var "
        + java.util.Arrays.toString(mv[1]) + " vs " + java.util.Arrays.toString(gm.variance(sigma)));
  }

  /** Noise that is the constant c everywhere: makes a linear step's mean and std visible exactly. */
  static NoiseSource constant(double c) {
    return (NDManager m, Shape shape, DataType dtype) -> m.full(shape, (float) c, dtype);
  }

  /** All finite. */
  static boolean finite(double[] x) {
    for (double v : x) {
      if (!Double.isFinite(v)) {
        return false;
      }
    }
    return true;
  }
}
