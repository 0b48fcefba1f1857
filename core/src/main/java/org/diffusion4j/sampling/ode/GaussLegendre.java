package org.diffusion4j.sampling.ode;

/** 16-point Gauss–Legendre nodes and weights on [−1, 1], computed once by Newton's method on P_16. */
public final class GaussLegendre {
  static final double[] NODES;
  static final double[] WEIGHTS;

  static {
    double[][] r = rule(16);
    NODES = r[0];
    WEIGHTS = r[1];
  }

  /** The n-point Gauss–Legendre rule on [−1, 1], {nodes, weights}, by Newton's method on P_n. */
  static double[][] rule(int n) {
    double[] nodes = new double[n];
    double[] weights = new double[n];
    for (int i = 0; i < n; i++) {
      double x = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
      double dp = 0;
      for (int it = 0; it < 100; it++) {
        double p0 = 1;
        double p1 = x;
        for (int k = 2; k <= n; k++) {
          double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
          p0 = p1;
          p1 = p2;
        }
        dp = n * (x * p1 - p0) / (x * x - 1);
        double dx = p1 / dp;
        x -= dx;
        if (Math.abs(dx) < 1e-16) {
          break;
        }
      }
      nodes[i] = x;
      weights[i] = 2 / ((1 - x * x) * dp * dp);
    }
    return new double[][] {nodes, weights};
  }

  /** The n-point rule mapped to [0, 1] (nodes (x + 1)/2, weights halved). */
  static double[][] unitRule(int n) {
    double[][] r = rule(n);
    for (int i = 0; i < n; i++) {
      r[0][i] = 0.5 * (r[0][i] + 1);
      r[1][i] = 0.5 * r[1][i];
    }
    return r;
  }

  private GaussLegendre() {}

  /**
   * Composite rule on [0, 1]: {@code panels} equal sub-intervals with 16 nodes each; returns {nodes, weights}
   * (16·panels of each), exact for polynomials of degree 31 on every panel.
   */
  public static double[][] unitInterval(int panels) {
    if (panels < 1) {
      throw new IllegalArgumentException("panels must be >= 1, got " + panels);
    }
    int q = NODES.length;
    double[] t = new double[q * panels];
    double[] w = new double[q * panels];
    double h = 1.0 / panels;
    for (int p = 0; p < panels; p++) {
      for (int k = 0; k < q; k++) {
        t[p * q + k] = h * (p + 0.5 * (NODES[k] + 1));
        w[p * q + k] = 0.5 * h * WEIGHTS[k];
      }
    }
    return new double[][] {t, w};
  }
}
