package org.diffusion4j.process;

/**
 * The sub-VP SDE {@code dx = −½β x dt + sqrt(β(1 − e^{−2B})) dw} with linear β (Song et al. 2021,
 * eq. 29): kernel {@code N(e^{−B/2} x0, (1 − e^{−B})² I)}, hence {@code s = e^{−B/2}},
 * {@code σ = (1 − e^{−B})/e^{−B/2} = 2 sinh(B/2)}.
 *
 * @param betaMin β_min (0.1)
 * @param betaMax β_max (20)
 * @param tMinValue smallest sampling time (1e-3)
 */
public record SubVp(double betaMin, double betaMax, double tMinValue) implements NoiseProcess {
  /** β_min 0.1, β_max 20, t_min 1e-3. */
  public static final SubVp DEFAULT = new SubVp(0.1, 20, 1e-3);

  public SubVp {
    Processes.requirePositive("beta-min", betaMin);
    Processes.requirePositive("beta-max", betaMax);
    Processes.requireOrdered("beta-min", betaMin, "beta-max", betaMax);
    Processes.requirePositive("t-min", tMinValue);
    Processes.requireOrdered("t-min", tMinValue, "t-max", 1);
  }

  private VpLinear vp() {
    return new VpLinear(betaMin, betaMax, tMinValue);
  }

  @Override public String id() { return "subvp"; }
  @Override public double tMin() { return tMinValue; }
  @Override public double tMax() { return 1; }
  @Override public double s(double t) { return Math.exp(-0.5 * vp().integralBeta(t)); }
  @Override public double ds(double t) { return -0.5 * vp().beta(t) * s(t); }
  @Override public double sigma(double t) { return 2 * Math.sinh(0.5 * vp().integralBeta(t)); }
  @Override public double dSigma(double t) { return vp().beta(t) * Math.cosh(0.5 * vp().integralBeta(t)); }
  @Override public double sigmaInv(double sigma) { return vp().tOfIntegralBeta(2 * asinh(0.5 * sigma)); }

  private static double asinh(double x) {
    return Math.log(x + Math.sqrt(x * x + 1));
  }
}
