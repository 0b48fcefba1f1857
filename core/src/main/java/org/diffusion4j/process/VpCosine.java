package org.diffusion4j.process;

/**
 * The cosine schedule of Nichol &amp; Dhariwal (2021), continuous in t ∈ [0, 1]):
 * {@code ᾱ(t) = cos²(φ(t))/cos²(φ(0))}, {@code φ(t) = (t + c)/(1 + c)·π/2}, c = 0.008. Hence
 * {@code s = sqrt(ᾱ)}, {@code σ = sqrt(1/ᾱ − 1)}.
 *
 * @param offset the offset c (0.008)
 * @param tMinValue smallest sampling time (1e-3)
 * @param tMaxValue largest time (0.9946, DPM-Solver's cut-off before ᾱ reaches 0)
 */
public record VpCosine(double offset, double tMinValue, double tMaxValue) implements NoiseProcess {
  /** c 0.008, t in [1e-3, 0.9946] (DPM-Solver's NoiseScheduleVP cosine). */
  public static final VpCosine DEFAULT = new VpCosine(0.008, 1e-3, 0.9946);

  public VpCosine {
    Processes.requirePositive("offset", offset);
    Processes.requirePositive("t-min", tMinValue);
    Processes.requireOrdered("t-min", tMinValue, "t-max", tMaxValue);
    Processes.requireOrdered("t-max", tMaxValue, "1", 1);
  }

  private double phi(double t) {
    return (t + offset) / (1 + offset) * Math.PI / 2;
  }

  private double dPhi() {
    return Math.PI / 2 / (1 + offset);
  }

  @Override public String id() { return "vp-cosine"; }
  @Override public double tMin() { return tMinValue; }
  @Override public double tMax() { return tMaxValue; }
  @Override public double s(double t) { return Math.cos(phi(t)) / Math.cos(phi(0)); }
  @Override public double ds(double t) { return -Math.sin(phi(t)) * dPhi() / Math.cos(phi(0)); }

  @Override
  public double sigma(double t) {
    double r = Math.cos(phi(0)) / Math.cos(phi(t));
    return Math.sqrt((r - 1) * (r + 1));
  }

  @Override
  public double dSigma(double t) {
    double c0 = Math.cos(phi(0));
    double c = Math.cos(phi(t));
    return c0 * c0 * Math.sin(phi(t)) * dPhi() / (sigma(t) * c * c * c);
  }

  @Override
  public double sigmaInv(double sigma) {
    double phi = Math.acos(Math.cos(phi(0)) / Math.sqrt(1 + sigma * sigma));
    return phi / dPhi() - offset;
  }
}
