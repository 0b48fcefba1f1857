/**
 * Steering a model: classifier-free guidance (Ho &amp; Salimans 2022), classifier guidance (Dhariwal &amp;
 * Nichol 2021), diffusion posterior sampling for inverse problems (Chung et al. 2023), inpainting by
 * replacement (Song et al. 2021; Lugmayr et al. 2022), static and dynamic thresholding (Saharia et al.
 * 2022), SDEdit (Meng et al. 2022) and DDIM inversion (Song et al. 2021).
 *
 * <p>Every method that changes the model is a decorator of {@link org.diffusion4j.denoiser.Denoiser}:
 * it wraps another denoiser and is one itself, so every sampler runs it unchanged and decorators stack
 * (e.g. thresholding around classifier-free guidance). All formulas are in the coordinates of the
 * frame, {@code x̂ = x0 + σ ε} and {@code D(x̂; σ) ≈ E[x0 | x̂]}, where Tweedie's formula reads
 * {@code D = x̂ + σ² ∇ log p_σ(x̂)} (Efron 2011; Karras et al. 2022, eq. 3): adding
 * {@code σ² ∇ log h(x̂)} to D adds {@code ∇ log h} to the score.
 */
package org.diffusion4j.guidance;
