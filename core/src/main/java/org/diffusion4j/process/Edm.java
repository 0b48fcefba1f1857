package org.diffusion4j.process;

/**
 * EDM's process {@code s(t) = 1, σ(t) = t} (Karras et al. 2022).
 *
 * @param sigmaMinValue smallest σ of the default grid (EDM: 0.002)
 * @param sigmaMaxValue prior σ (EDM: 80)
 */
public record Edm(double sigmaMinValue, double sigmaMaxValue) implements NoiseProcess {
  /** σ_min 0.002, σ_max 80 (EDM paper, Table 1). */
  public static final Edm DEFAULT = new Edm(0.002, 80);

  public Edm {
    Processes.requirePositive("sigma-min", sigmaMinValue);
    Processes.requirePositive("sigma-max", sigmaMaxValue);
    Processes.requireOrdered("sigma-min", sigmaMinValue, "sigma-max", sigmaMaxValue);
  }

  @Override public String id() { return "edm"; }
  @Override public double tMin() { return sigmaMinValue; }
  @Override public double tMax() { return sigmaMaxValue; }
  @Override public double s(double t) { return 1; }
  @Override public double ds(double t) { return 0; }
  @Override public double sigma(double t) { return t; }
  @Override public double dSigma(double t) { return 1; }
  @Override public double sigmaInv(double sigma) { return sigma; }
}
