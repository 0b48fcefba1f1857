package org.diffusion4j.train.eval;

import java.util.SplittableRandom;

/**
 * The kernel distance of Bińkowski et al. 2018 (KID, §4, eq. 6, there on Inception features): the
 * unbiased MMD² with the cubic polynomial kernel {@code k(x, y) = (xᵀy/d + 1)³}, averaged over random
 * subsets of m points of each set (drawn without replacement), with the standard deviation over subsets.
 *
 * @param mean the average over subsets
 * @param std the standard deviation over subsets
 * @param subsets number of subsets
 * @param subsetSize m
 */
public record Kid(double mean, double std, int subsets, int subsetSize) {

  /**
   * @param a features row-major n·d
   * @param b features row-major m·d
   * @param subsets number of subsets (e.g. 100)
   * @param subsetSize points per subset (capped by the smaller set; at least 2)
   */
  public static Kid of(double[] a, double[] b, int d, int subsets, int subsetSize, long seed) {
    int n = Points.check(a, d, 2, "first");
    int m = Points.check(b, d, 2, "second");
    if (subsets < 1) {
      throw new IllegalArgumentException("KID needs >= 1 subsets, got " + subsets);
    }
    int s = Math.min(subsetSize, Math.min(n, m));
    if (s < 2) {
      throw new IllegalArgumentException("KID subset size must be >= 2, got " + subsetSize);
    }
    SplittableRandom rng = new SplittableRandom(seed);
    double[] v = new double[subsets];
    for (int r = 0; r < subsets; r++) {
      int[] ia = choose(n, s, rng);
      int[] ib = choose(m, s, rng);
      double xx = 0;
      double yy = 0;
      double xy = 0;
      for (int i = 0; i < s; i++) {
        for (int j = 0; j < s; j++) {
          if (i != j) {
            xx += kernel(a, ia[i], a, ia[j], d);
            yy += kernel(b, ib[i], b, ib[j], d);
          }
          xy += kernel(a, ia[i], b, ib[j], d);
        }
      }
      v[r] = (xx + yy) / ((double) s * (s - 1)) - 2 * xy / ((double) s * s);
    }
    double mean = 0;
    for (double x : v) {
      mean += x / subsets;
    }
    double var = 0;
    for (double x : v) {
      var += (x - mean) * (x - mean);
    }
    return new Kid(mean, subsets > 1 ? Math.sqrt(var / (subsets - 1)) : 0, subsets, s);
  }

  private static double kernel(double[] a, int i, double[] b, int j, int d) {
    double dot = 0;
    for (int k = 0; k < d; k++) {
      dot += a[i * d + k] * b[j * d + k];
    }
    double t = dot / d + 1;
    return t * t * t;
  }

  private static int[] choose(int n, int k, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(n - i);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return java.util.Arrays.copyOf(p, k);
  }
}
