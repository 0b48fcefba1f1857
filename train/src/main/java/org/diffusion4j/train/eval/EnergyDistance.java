package org.diffusion4j.train.eval;

/**
 * The energy distance {@code E(P, Q) = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖} (Székely &amp; Rizzo 2004),
 * with the within-set terms as U-statistics (pairs i ≠ j), so that it is unbiased and 0 in expectation
 * for one distribution; {@code E ≥ 0} with equality iff P = Q.
 */
public final class EnergyDistance {
  private EnergyDistance() {}

  /** The estimate for two sets of n, m ≥ 2 points of dimension d. */
  public static double of(double[] a, double[] b, int d) {
    int n = Points.check(a, d, 2, "first");
    int m = Points.check(b, d, 2, "second");
    double xy = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        xy += Math.sqrt(Points.dist2(a, i, b, j, d));
      }
    }
    return 2 * xy / ((double) n * m) - within(a, n, d) - within(b, m, d);
  }

  private static double within(double[] x, int n, int d) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        s += Math.sqrt(Points.dist2(x, i, x, j, d));
      }
    }
    return 2 * s / ((double) n * (n - 1));
  }
}
