package org.diffusion4j.likelihood;

/**
 * A Monte-Carlo mean with its standard error {@code sd/√n} (sample standard deviation, n − 1).
 *
 * @param mean the mean
 * @param stderr its standard error (0 for one value)
 * @param n number of values
 */
public record Estimate(double mean, double stderr, int n) {

  /** The mean and standard error of {@code values}, all finite. */
  public static Estimate of(double[] values) {
    int n = values.length;
    if (n == 0) {
      throw new IllegalArgumentException("no values to average (empty data)");
    }
    double s = 0;
    for (int i = 0; i < n; i++) {
      if (!Double.isFinite(values[i])) {
        throw new IllegalArgumentException("value " + i + " is not finite: " + values[i]);
      }
      s += values[i];
    }
    double m = s / n;
    double v = 0;
    for (double x : values) {
      v += (x - m) * (x - m);
    }
    double se = n > 1 ? Math.sqrt(v / (n - 1) / n) : 0;
    return new Estimate(m, se, n);
  }
}
