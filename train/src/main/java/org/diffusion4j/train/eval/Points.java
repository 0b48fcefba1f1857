package org.diffusion4j.train.eval;

import java.util.Arrays;

/** Shared checks and distances of row-major point sets. */
final class Points {
  private Points() {}

  /** Rejects a set that is not a non-empty n·d array of finite values with n ≥ min. */
  static int check(double[] x, int d, int min, String name) {
    if (d < 1) {
      throw new IllegalArgumentException("dimension must be >= 1, got " + d);
    }
    if (x.length % d != 0 || x.length / d < min) {
      throw new IllegalArgumentException("the " + name + " point set must hold n·" + d + " values with n >= " + min
          + ", got " + x.length + " values");
    }
    for (int i = 0; i < x.length; i++) {
      if (!Double.isFinite(x[i])) {
        throw new IllegalArgumentException("the " + name + " point set has a non-finite value " + x[i] + " at point "
            + i / d);
      }
    }
    return x.length / d;
  }

  static double dist2(double[] a, int i, double[] b, int j, int d) {
    double s = 0;
    int p = i * d;
    int q = j * d;
    for (int k = 0; k < d; k++) {
      double u = a[p + k] - b[q + k];
      s += u * u;
    }
    return s;
  }

  /** At most {@code cap} leading points of each set, pooled. */
  static double[] pool(double[] a, double[] b, int d, int cap) {
    double[] x = Arrays.copyOf(a, Math.min(a.length, cap * d));
    double[] y = Arrays.copyOf(b, Math.min(b.length, cap * d));
    double[] out = Arrays.copyOf(x, x.length + y.length);
    System.arraycopy(y, 0, out, x.length, y.length);
    return out;
  }

  /** Squared distance of each of the n points to its k-th nearest neighbour in its own set (itself excluded). */
  static double[] kthNeighbourSquared(double[] x, int n, int d, int k) {
    double[] r = new double[n];
    double[] best = new double[k];
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(best, Double.POSITIVE_INFINITY);
      for (int j = 0; j < n; j++) {
        if (j == i) {
          continue;
        }
        double v = dist2(x, i, x, j, d);
        if (v < best[k - 1]) {
          int p = k - 1;
          while (p > 0 && best[p - 1] > v) {
            best[p] = best[p - 1];
            p--;
          }
          best[p] = v;
        }
      }
      r[i] = best[k - 1];
    }
    return r;
  }
}
