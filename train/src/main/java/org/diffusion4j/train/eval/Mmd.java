package org.diffusion4j.train.eval;

/**
 * The squared maximum mean discrepancy with Gaussian (RBF) kernels, unbiased (Gretton et al. 2012,
 * eq. 3): {@code MMD²_u = mean_{i≠j} k(x_i,x_j) + mean_{i≠j} k(y_i,y_j) − 2 mean_{i,j} k(x_i,y_j)} with
 * {@code k = (1/|H|) Σ_{h∈H} exp(−‖x − y‖²/(2h²))} over several bandwidths. Being unbiased it can be
 * slightly negative for two samples of one distribution; its expectation is 0 exactly then.
 */
public final class Mmd {
  private Mmd() {}

  /**
   * @param a points row-major n·d (n ≥ 2)
   * @param b points row-major m·d (m ≥ 2)
   * @param d dimension
   * @param bandwidths the kernel widths h, each &gt; 0
   */
  public static double squared(double[] a, double[] b, int d, double... bandwidths) {
    Points.check(a, d, 2, "first");
    Points.check(b, d, 2, "second");
    if (bandwidths.length == 0) {
      throw new IllegalArgumentException("MMD needs at least one bandwidth");
    }
    double[] g = new double[bandwidths.length];
    for (int i = 0; i < g.length; i++) {
      if (!(bandwidths[i] > 0) || Double.isInfinite(bandwidths[i])) {
        throw new IllegalArgumentException("MMD bandwidth " + i + " must be finite and > 0, got " + bandwidths[i]);
      }
      g[i] = -0.5 / (bandwidths[i] * bandwidths[i]);
    }
    int n = a.length / d;
    int m = b.length / d;
    double xx = within(a, n, d, g);
    double yy = within(b, m, d, g);
    double xy = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        xy += kernel(Points.dist2(a, i, b, j, d), g);
      }
    }
    return xx / ((double) n * (n - 1)) + yy / ((double) m * (m - 1)) - 2 * xy / ((double) n * m);
  }

  /**
   * Bandwidths {@code {¼, ½, 1, 2, 4} × median} of the pairwise distances of the pooled sets (the median
   * heuristic, Gretton et al. 2012, §8), from at most 1000 points of each.
   */
  public static double[] medianBandwidths(double[] a, double[] b, int d) {
    Points.check(a, d, 1, "first");
    Points.check(b, d, 1, "second");
    double[] pool = Points.pool(a, b, d, 1000);
    int n = pool.length / d;
    double[] dist = new double[n * (n - 1) / 2];
    int k = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        dist[k++] = Math.sqrt(Points.dist2(pool, i, pool, j, d));
      }
    }
    java.util.Arrays.sort(dist);
    double med = dist.length == 0 ? 1 : dist[dist.length / 2];
    if (!(med > 0)) {
      med = 1;
    }
    return new double[] {med / 4, med / 2, med, 2 * med, 4 * med};
  }

  private static double within(double[] x, int n, int d, double[] g) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        s += 2 * kernel(Points.dist2(x, i, x, j, d), g);
      }
    }
    return s;
  }

  private static double kernel(double d2, double[] g) {
    double s = 0;
    for (double v : g) {
      s += Math.exp(v * d2);
    }
    return s / g.length;
  }
}
