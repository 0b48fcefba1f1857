package org.diffusion4j.process;

/**
 * Variance-exploding SDE with the geometric NCSN schedule {@code σ(t) = σ_min (σ_max/σ_min)^t},
 * {@code s = 1}, t ∈ [0, 1] (Song et al. 2021):
 * {@code f = 0}, {@code g² = 2σ² ln(σ_max/σ_min)}.
 *
 * @param sigmaMinValue σ at t = 0 (Score SDE: 0.01)
 * @param sigmaMaxValue σ at t = 1 (Score SDE CIFAR-10: 50)
 */
public record VarianceExploding(double sigmaMinValue, double sigmaMaxValue) implements NoiseProcess {
  /** σ_min 0.01, σ_max 50 (Song et al. 2021, CIFAR-10). */
  public static final VarianceExploding DEFAULT = new VarianceExploding(0.01, 50);

  public VarianceExploding {
    Processes.requirePositive("sigma-min", sigmaMinValue);
    Processes.requirePositive("sigma-max", sigmaMaxValue);
    Processes.requireOrdered("sigma-min", sigmaMinValue, "sigma-max", sigmaMaxValue);
  }

  private double logR() {
    return Math.log(sigmaMaxValue / sigmaMinValue);
  }

  @Override public String id() { return "ve"; }
  @Override public double tMin() { return 0; }
  @Override public double tMax() { return 1; }
  @Override public double s(double t) { return 1; }
  @Override public double ds(double t) { return 0; }
  @Override public double sigma(double t) { return sigmaMinValue * Math.exp(t * logR()); }
  @Override public double dSigma(double t) { return sigma(t) * logR(); }
  @Override public double sigmaInv(double sigma) { return Math.log(sigma / sigmaMinValue) / logR(); }
}
