package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.SigmaSpace;

/** Shared stage evaluation of the σ-space PF-ODE samplers. */
final class PfOde {
  private PfOde() {}

  /** The slope {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ} at a stage point (σ &gt; 0); 1 NFE. */
  static NDArray slope(Denoiser model, NDArray xHat, double sigma) {
    return SigmaSpace.derivative(xHat, model.denoise(xHat, sigma), sigma);
  }
}
