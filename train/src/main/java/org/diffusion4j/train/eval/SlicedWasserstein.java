package org.diffusion4j.train.eval;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Sliced 2-Wasserstein distance between two point sets (Rabin et al. 2011):
 * {@code SW₂(P, Q) = sqrt(E_u[W₂²(u·P, u·Q)])} over random unit directions u, each 1-D W₂ computed
 * exactly from sorted projections (quantile matching; sets of different sizes are compared at a
 * common grid of quantiles).
 */
public final class SlicedWasserstein {
  private SlicedWasserstein() {}

  /**
   * @param a points, row-major n·d
   * @param b points, row-major m·d
   * @param d dimension
   * @param projections number of random directions (e.g. 512)
   * @param seed seed of the directions
   */
  public static double distance(double[] a, double[] b, int d, int projections, long seed) {
    if (a.length % d != 0 || b.length % d != 0 || a.length == 0 || b.length == 0) {
      throw new IllegalArgumentException("point sets must be non-empty n·" + d + " arrays, got lengths "
          + a.length + " and " + b.length);
    }
    SplittableRandom rng = new SplittableRandom(seed);
    int n = a.length / d;
    int m = b.length / d;
    int q = Math.max(n, m);
    double total = 0;
    double[] u = new double[d];
    for (int p = 0; p < projections; p++) {
      double norm = 0;
      for (int j = 0; j < d; j++) {
        u[j] = rng.nextGaussian();
        norm += u[j] * u[j];
      }
      norm = Math.sqrt(norm);
      for (int j = 0; j < d; j++) {
        u[j] /= norm;
      }
      double[] pa = project(a, u, d);
      double[] pb = project(b, u, d);
      double w2 = 0;
      for (int i = 0; i < q; i++) {
        double level = (i + 0.5) / q;
        double diff = quantile(pa, level) - quantile(pb, level);
        w2 += diff * diff;
      }
      total += w2 / q;
    }
    return Math.sqrt(total / projections);
  }

  private static double[] project(double[] x, double[] u, int d) {
    double[] p = new double[x.length / d];
    for (int i = 0; i < p.length; i++) {
      double s = 0;
      for (int j = 0; j < d; j++) {
        s += x[i * d + j] * u[j];
      }
      p[i] = s;
    }
    Arrays.sort(p);
    return p;
  }

  /** The empirical quantile of sorted values at level ∈ (0, 1): the order statistic holding it. */
  private static double quantile(double[] sorted, double level) {
    int k = Math.min(sorted.length - 1, (int) Math.floor(level * sorted.length));
    return sorted[k];
  }
}
