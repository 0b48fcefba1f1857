package org.diffusion4j.process;

/**
 * Variance-preserving SDE with linear {@code β(t) = β_min + t(β_max − β_min)} (DDPM's continuous
 * limit). With {@code B(t) = β_min t + ½Δβ t²}:
 * {@code s = e^{−B/2}}, {@code σ = sqrt(e^B − 1)}, {@code f = −½β}, {@code g² = β}.
 *
 * @param betaMin β_min (0.1)
 * @param betaMax β_max (20)
 * @param tMinValue smallest sampling time ε_s (1e-3)
 */
public record VpLinear(double betaMin, double betaMax, double tMinValue) implements NoiseProcess {
  /** β_min 0.1, β_max 20, ε_s 1e-3 (Song et al. 2021; EDM's VP column). */
  public static final VpLinear DEFAULT = new VpLinear(0.1, 20, 1e-3);

  public VpLinear {
    Processes.requirePositive("beta-min", betaMin);
    Processes.requirePositive("beta-max", betaMax);
    Processes.requireOrdered("beta-min", betaMin, "beta-max", betaMax);
    Processes.requirePositive("t-min", tMinValue);
    Processes.requireOrdered("t-min", tMinValue, "t-max", 1);
  }

  /** {@code B(t) = ∫_0^t β}. */
  public double integralBeta(double t) {
    return betaMin * t + 0.5 * (betaMax - betaMin) * t * t;
  }

  /** {@code β(t)}. */
  public double beta(double t) {
    return betaMin + (betaMax - betaMin) * t;
  }

  /** Inverse of {@link #integralBeta}: the positive root, written without cancellation. */
  double tOfIntegralBeta(double b) {
    double d = betaMax - betaMin;
    return 2 * b / (betaMin + Math.sqrt(betaMin * betaMin + 2 * d * b));
  }

  @Override public String id() { return "vp"; }
  @Override public double tMin() { return tMinValue; }
  @Override public double tMax() { return 1; }
  @Override public double s(double t) { return Math.exp(-0.5 * integralBeta(t)); }
  @Override public double ds(double t) { return -0.5 * beta(t) * s(t); }
  @Override public double sigma(double t) { return Math.sqrt(Math.expm1(integralBeta(t))); }

  @Override
  public double dSigma(double t) {
    double b = integralBeta(t);
    return 0.5 * beta(t) * Math.exp(b) / Math.sqrt(Math.expm1(b));
  }

  @Override public double sigmaInv(double sigma) { return tOfIntegralBeta(Math.log1p(sigma * sigma)); }
  @Override public double f(double t) { return -0.5 * beta(t); }
  @Override public double g2(double t) { return beta(t); }
}
