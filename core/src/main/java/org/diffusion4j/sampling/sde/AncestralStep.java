package org.diffusion4j.sampling.sde;

/**
 * The split of an ancestral step from σ to σ_next into a deterministic move down to {@code σ_down}
 * and fresh noise of std {@code σ_up} back up to σ_next, {@code σ_down² + σ_up² = σ_next²}
 * (k-diffusion {@code get_ancestral_step}; at η = 1 the DDPM posterior variance in σ-space,
 * Ho et al. 2020 eq. 7):
 *
 * <pre>
 *   σ_up   = min(σ_next, η·sqrt(σ_next²·(σ² − σ_next²)/σ²))
 *   σ_down = sqrt(σ_next² − σ_up²)
 * </pre>
 *
 * @param sigmaDown the noise level the deterministic part steps to
 * @param sigmaUp the std of the noise added afterwards
 */
record AncestralStep(double sigmaDown, double sigmaUp) {

  /** The split for a step from {@code sigma} to {@code sigmaNext} with noise fraction {@code eta}. */
  static AncestralStep of(double sigma, double sigmaNext, double eta) {
    if (eta == 0) {
      // η = 0: deterministic, no noise.
      return new AncestralStep(sigmaNext, 0);
    }
    double sigmaUp = Math.min(sigmaNext,
        eta * Math.sqrt(sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext) / (sigma * sigma)));
    double sigmaDown = Math.sqrt(sigmaNext * sigmaNext - sigmaUp * sigmaUp);
    return new AncestralStep(sigmaDown, sigmaUp);
  }
}
