package org.diffusion4j.likelihood;

/**
 * The reconstruction term {@code −log p(x0 | x̂_0)} of a variational bound, a distribution centred on
 * the model's x0-estimate D(x̂_0; σ_0) with standard deviation s.
 */
public enum Decoder {
  /** A Gaussian density {@code N(x0; D, s² I)}: the bound is on a continuous density (nats). */
  GAUSSIAN,
  /**
   * Ho et al. 2020's discretised Gaussian (§3.3, eq. 13) for 8-bit data on [−1, 1]: the mass of
   * {@code N(D, s²)} over the bin {@code [x − 1/255, x + 1/255]}, the outer bins extended to ±∞; the
   * bound is on the probability of the discrete data.
   */
  DISCRETIZED_8BIT;

  /** {@code −log p(x0 | mean)} of one point, d coordinates starting at {@code off}. */
  public double negativeLogLikelihood(double[] x0, double[] mean, int off, int d, double std) {
    double total = 0;
    if (this == GAUSSIAN) {
      double c = 0.5 * Math.log(2 * Math.PI * std * std);
      for (int j = off; j < off + d; j++) {
        double z = (x0[j] - mean[j]) / std;
        total += 0.5 * z * z + c;
      }
      return total;
    }
    for (int j = off; j < off + d; j++) {
      double x = x0[j];
      double lo = x < -0.999 ? Double.NEGATIVE_INFINITY : (x - 1.0 / 255 - mean[j]) / std;
      double hi = x > 0.999 ? Double.POSITIVE_INFINITY : (x + 1.0 / 255 - mean[j]) / std;
      total -= Math.log(Math.max(Normal.massBetween(lo, hi), 1e-12));
    }
    return total;
  }
}
