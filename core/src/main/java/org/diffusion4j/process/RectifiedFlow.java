package org.diffusion4j.process;

/**
 * Rectified flow / flow matching in the diffusion convention (data at t = 0):
 * {@code x_t = (1 − t) x0 + t ε} (Liu et al. 2023; Lipman et al. 2023), so {@code s = 1 − t},
 * {@code σ = t/(1 − t)}, velocity {@code v = ε − x0}.
 *
 * <p>At t = 1 the scale s vanishes and σ is infinite; sampling in the frame starts at
 * {@code tMax = 1 − 1e-3} (σ = 999), where the prior {@code N(0, (sσ)² I)} differs from the data's
 * noised law by a relative 1e-3.
 *
 * @param tMinValue smallest sampling time (1e-3)
 * @param tMaxValue prior time (1 − 1e-3)
 */
public record RectifiedFlow(double tMinValue, double tMaxValue) implements NoiseProcess {
  /** t in [1e-3, 0.999]. */
  public static final RectifiedFlow DEFAULT = new RectifiedFlow(1e-3, 1 - 1e-3);

  public RectifiedFlow {
    Processes.requirePositive("t-min", tMinValue);
    Processes.requireOrdered("t-min", tMinValue, "t-max", tMaxValue);
    Processes.requireOrdered("t-max", tMaxValue, "1", 1);
  }

  @Override public String id() { return "flow"; }
  @Override public double tMin() { return tMinValue; }
  @Override public double tMax() { return tMaxValue; }
  @Override public double s(double t) { return 1 - t; }
  @Override public double ds(double t) { return -1; }
  @Override public double sigma(double t) { return t / (1 - t); }
  @Override public double dSigma(double t) { return 1 / ((1 - t) * (1 - t)); }
  @Override public double sigmaInv(double sigma) { return sigma / (1 + sigma); }
  @Override public double sigmaAbs(double t) { return t; }
}
