package org.diffusion4j.likelihood;

import org.diffusion4j.analytic.GaussianMixture;

/** The log-density of the ODE's end point x̂(σ_max), the prior the samplers start from. */
@FunctionalInterface
public interface PriorDensity {

  /**
   * @param x n points row-major {@code n·d}
   * @param d dimension
   * @param sigma σ_max
   * @return log p(x̂) per point
   */
  double[] logDensity(double[] x, int d, double sigma);

  /**
   * {@code N(0, σ_max² I)}: the prior of every sampler, {@code x̂ = σ_max ε}; its log-density is
   * {@code −(d/2) ln(2πσ²) − ‖x̂‖²/(2σ²)} (Song et al. 2021, §D.2).
   */
  static PriorDensity gaussian() {
    return (x, d, sigma) -> {
      int n = x.length / d;
      double[] out = new double[n];
      double c = -0.5 * d * Math.log(2 * Math.PI * sigma * sigma);
      for (int p = 0; p < n; p++) {
        double q = 0;
        for (int j = 0; j < d; j++) {
          q += x[p * d + j] * x[p * d + j];
        }
        out[p] = c - 0.5 * q / (sigma * sigma);
      }
      return out;
    };
  }

  /** The exact marginal {@code p_σ} of a mixture (no prior mismatch: the ODE's only error is the solver's). */
  static PriorDensity exact(GaussianMixture mixture) {
    return (x, d, sigma) -> mixture.logDensity(x, sigma);
  }
}
