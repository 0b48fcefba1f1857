package org.diffusion4j.train.eval;

import org.diffusion4j.analytic.GaussianMixture;

/**
 * {@code KL(q ‖ p)} of samples from an unknown q against a density p known in closed form (an exact
 * mixture): {@code KL = −H(q) − E_q log p}, with the entropy by the Kozachenko–Leonenko k-nearest-neighbour
 * estimator (Kozachenko &amp; Leonenko 1987; Kraskov et al. 2004, eq. 20):
 * {@code Ĥ = ψ(n) − ψ(k) + ln V_d + (d/n) Σ_i ln ε_i}, ε_i the distance from x_i to its k-th neighbour and
 * V_d the volume of the unit d-ball. Consistent for fixed k; its bias shrinks as n grows.
 */
public final class KnnKl {
  private KnnKl() {}

  /**
   * @param samples n ≥ k + 1 points of q, row-major
   * @param p the reference density, of the samples' dimension
   * @param k the neighbour used (e.g. 5)
   */
  public static double divergence(double[] samples, GaussianMixture p, int k) {
    int d = p.dim();
    int n = Points.check(samples, d, 2, "sample");
    if (k < 1 || k >= n) {
      throw new IllegalArgumentException("k must lie in [1, n - 1] = [1, " + (n - 1) + "], got " + k);
    }
    double[] lp = p.logDensity(samples, 0);
    double cross = 0;
    for (double v : lp) {
      cross += v;
    }
    return -entropy(samples, d, k) - cross / n;
  }

  /** The Kozachenko–Leonenko entropy estimate (nats). */
  public static double entropy(double[] x, int d, int k) {
    int n = Points.check(x, d, 2, "sample");
    double[] r = Points.kthNeighbourSquared(x, n, d, k);
    double logs = 0;
    for (int i = 0; i < n; i++) {
      if (!(r[i] > 0)) {
        throw new IllegalArgumentException("point " + i + " has " + k + " duplicates; the k-NN entropy needs distinct points");
      }
      logs += 0.5 * Math.log(r[i]);
    }
    double logVd = d / 2.0 * Math.log(Math.PI) - logGamma(d / 2.0 + 1);
    return digamma(n) - digamma(k) + logVd + d * logs / n;
  }

  /** ψ(x) for x &gt; 0 by recurrence and the asymptotic series. */
  static double digamma(double x) {
    double r = 0;
    while (x < 6) {
      r -= 1 / x;
      x += 1;
    }
    double f = 1 / (x * x);
    return r + Math.log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
  }

  /** ln Γ(x) for x &gt; 0 (Stirling series after recurrence). */
  static double logGamma(double x) {
    double r = 0;
    while (x < 8) {
      r -= Math.log(x);
      x += 1;
    }
    double f = 1 / (x * x);
    return r + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI)
        + (1 / x) * (1.0 / 12 - f * (1.0 / 360 - f * (1.0 / 1260 - f / 1680)));
  }
}
