package org.diffusion4j.likelihood;

/**
 * A denoiser together with the trace of its Jacobian, {@code tr ∂D/∂x̂}, evaluated on the host: what the
 * instantaneous change of variables (Chen et al. 2018, Thm. 1; Song et al. 2021, eq. 39) needs along the
 * probability-flow ODE {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ}, whose divergence is {@code (d − tr ∂D/∂x̂)/σ}.
 *
 * <p>Implementations: {@link MixtureTrace} (closed form for an exact Gaussian mixture) and
 * {@link DenoiserTrace} (input gradients of any differentiable {@code Denoiser}, exact or by
 * Hutchinson's estimator).
 */
public interface TraceModel {

  /** Dimension d of one sample. */
  int dim();

  /**
   * @param x n points, row-major {@code n·d}, the scaled state x̂
   * @param rows global indices of the n points (they choose each point's Hutchinson probes)
   * @param sigma the noise level, &gt; 0
   * @return D(x̂; σ) ({@code n·d}) and {@code tr ∂D/∂x̂} per point (estimated, for Hutchinson)
   */
  Evaluation evaluate(double[] x, long[] rows, double sigma);

  /** D and the Jacobian trace of n points. */
  record Evaluation(double[] denoised, double[] trace) {}
}
