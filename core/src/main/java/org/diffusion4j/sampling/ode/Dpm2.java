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
 * k-diffusion's "DPM-2": a midpoint step on the PF-ODE in σ with the midpoint taken in log σ, inspired by
 * DPM-Solver-2 (Lu et al. 2022, Alg. 1) and EDM Algorithm 2 (Karras et al. 2022); k-diffusion
 * {@code sample_dpm_2} without churn).
 *
 * <p>{@code σ_mid = exp((log σ + log σ_next)/2)}, {@code x̂₂ = x̂ + (σ_mid − σ)·d(x̂, σ)},
 * {@code x̂ += (σ_next − σ)·d(x̂₂, σ_mid)}. The step to σ = 0 is a plain Euler step. Order 2,
 * 2 NFE/step (1 on the last step to 0). No parameters.
 */
public record Dpm2() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm2", false,
      "Midpoint in log σ on the PF-ODE (k-diffusion sample_dpm_2, after Lu et al. 2022); order 2, 2 NFE/step, Euler on the last step to 0",
      List.of(), p -> new Dpm2());

  @Override
  public String id() {
    return "dpm2";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      NDArray denoised = model.denoise(x, sigma);
      NDArray d = SigmaSpace.derivative(x, denoised, sigma);
      NDArray next;
      if (sigmaNext == 0) {
        // Last step: σ_next == 0, Euler.
        next = x.add(d.mul(sigmaNext - sigma));
      } else {
        // Midpoint in log σ.
        double sigmaMid = Math.exp(0.5 * (Math.log(sigma) + Math.log(sigmaNext)));
        NDArray x2 = x.add(d.mul(sigmaMid - sigma));
        NDArray d2 = PfOde.slope(model, x2, sigmaMid);
        next = x.add(d2.mul(sigmaNext - sigma));
      }
      return new SigmaSpace.Stepped(next, denoised);
    });
  }
}
