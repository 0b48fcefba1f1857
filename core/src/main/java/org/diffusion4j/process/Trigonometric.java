package org.diffusion4j.process;

/**
 * The trigonometric interpolant {@code x_t = cos t·x0 + sin t·ε}, t ∈ [0, π/2]
 * (Albergo &amp; Vanden-Eijnden 2023; Lu &amp; Song 2024's TrigFlow): {@code s = cos t}, {@code σ = tan t}.
 *
 * @param tMinValue smallest sampling time (1e-3)
 * @param tMaxValue prior time (π/2 − 1e-3, where σ ≈ 1000)
 */
public record Trigonometric(double tMinValue, double tMaxValue) implements NoiseProcess {
  /** t in [1e-3, π/2 − 1e-3]. */
  public static final Trigonometric DEFAULT = new Trigonometric(1e-3, Math.PI / 2 - 1e-3);

  public Trigonometric {
    Processes.requirePositive("t-min", tMinValue);
    Processes.requireOrdered("t-min", tMinValue, "t-max", tMaxValue);
    Processes.requireOrdered("t-max", tMaxValue, "π/2", Math.PI / 2);
  }

  @Override public String id() { return "trig"; }
  @Override public double tMin() { return tMinValue; }
  @Override public double tMax() { return tMaxValue; }
  @Override public double s(double t) { return Math.cos(t); }
  @Override public double ds(double t) { return -Math.sin(t); }
  @Override public double sigma(double t) { return Math.tan(t); }
  @Override public double dSigma(double t) { double c = Math.cos(t); return 1 / (c * c); }
  @Override public double sigmaInv(double sigma) { return Math.atan(sigma); }
  @Override public double sigmaAbs(double t) { return Math.sin(t); }
}
