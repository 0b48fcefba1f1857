package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * Heun's 2nd-order method on the PF-ODE in σ: EDM Algorithm 1 (Karras et al. 2022;
 * k-diffusion {@code sample_heun} without churn). The step to σ = 0 is a plain Euler
 * step (no correction), so a grid of N steps ending in 0 costs 2N − 1 NFE.
 */
public record Heun() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("heun", false,
      "Heun on the PF-ODE in σ, EDM Algorithm 1 (Karras et al. 2022); order 2, 2 NFE/step, Euler on the last step to 0",
      List.of(), p -> new Heun());

  @Override
  public String id() {
    return "heun";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> step(model, x, sigma, sigmaNext));
  }

  /**
   * One Heun step of the PF-ODE from σ to σ_next (Euler when σ_next = 0); also EDM's stochastic sampler's
   * step from its raised level σ̂.
   */
  public static SigmaSpace.Stepped step(Denoiser model, NDArray x, double sigma, double sigmaNext) {
    double dt = sigmaNext - sigma;
    NDArray denoised = model.denoise(x, sigma);
    NDArray d = SigmaSpace.derivative(x, denoised, sigma);
    if (sigmaNext == 0) {
      // Last step: σ_next == 0, Euler.
      return new SigmaSpace.Stepped(x.add(d.mul(dt)), denoised);
    }
    // Euler predictor, then 2nd-order correction.
    NDArray x2 = x.add(d.mul(dt));
    NDArray d2 = SigmaSpace.derivative(x2, model.denoise(x2, sigmaNext), sigmaNext);
    return new SigmaSpace.Stepped(x.add(d.add(d2).div(2).mul(dt)), denoised);
  }
}
