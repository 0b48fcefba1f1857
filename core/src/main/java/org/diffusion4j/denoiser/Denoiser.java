package org.diffusion4j.denoiser;

import ai.djl.ndarray.NDArray;

/**
 * The model as the frame sees it: {@code D(x̂; σ) ≈ E[x0 | x̂]}, where {@code x̂ = x0 + σ ε} is the
 * scaled state {@code x/s(t)} (Karras et al. 2022; seed 003 eq. 6; SPEC NET-01, PAR-02).
 *
 * <p>ε-, v-, score- and velocity-networks become denoisers through {@link Parameterization} and
 * {@link Preconditioning}; guidance and thresholding are decorators of this interface. Samplers call
 * it as often as their method needs and never see how it is made.
 */
@FunctionalInterface
public interface Denoiser {
  /**
   * @param x the scaled state x̂, shape {@code [n, …]}, FLOAT32 or FLOAT64
   * @param sigma the noise level σ ≥ 0 shared by the batch
   * @return the x0-estimate, same shape and dtype as {@code x}
   */
  NDArray denoise(NDArray x, double sigma);
}
