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
 * Euler's method on the PF-ODE {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ} (Karras et al. 2022
 * eq. 4; k-diffusion {@code sample_euler} without churn). First order, 1 NFE/step.
 */
public record Euler() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("euler", false,
      "Euler on the PF-ODE in σ (Karras et al. 2022 eq. 4; k-diffusion sample_euler); order 1, 1 NFE/step",
      List.of(), p -> new Euler());

  @Override
  public String id() {
    return "euler";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      NDArray denoised = model.denoise(x, sigma);
      // Euler step.
      NDArray d = SigmaSpace.derivative(x, denoised, sigma);
      return new SigmaSpace.Stepped(x.add(d.mul(sigmaNext - sigma)), denoised);
    });
  }
}
