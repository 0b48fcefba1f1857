package org.diffusion4j.denoiser;

/**
 * Preconditioning coefficients {@code D(x̂; σ) = c_skip x̂ + c_out F(c_in x̂; c_noise)} (Karras et al.
 * 2022 Table 1).
 */
public record Scalings(double cSkip, double cOut, double cIn, double cNoise) {}
