package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

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

  /** The deterministic part of an ancestral step: x̂ at σ (with D(x̂; σ) already evaluated) moved to σ_down. */
  @FunctionalInterface
  interface Down {
    NDArray step(NDArray x, NDArray denoised, double sigma, double sigmaDown);
  }

  /**
   * The ancestral loop shared by the ancestral samplers: per step one D(x̂; σ), the split {@link #of}, the
   * sampler's deterministic move {@code down} to σ_down, then S_noise·σ_up·ε (none when σ_up = 0, so none at
   * η = 0 or on the step to σ = 0).
   */
  static NDArray march(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener,
      double eta, double sNoise, Down down) {
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      NDArray denoised = model.denoise(x, sigma);
      AncestralStep a = of(sigma, sigmaNext, eta);
      NDArray next = down.step(x, denoised, sigma, a.sigmaDown());
      if (a.sigmaUp() > 0) {
        next = Stochastic.addNoise(next, noise, sNoise * a.sigmaUp());
      }
      return new SigmaSpace.Stepped(next, denoised);
    });
  }

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
