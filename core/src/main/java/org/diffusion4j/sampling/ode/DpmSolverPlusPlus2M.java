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
 * DPM-Solver++(2M): the multistep 2nd-order exponential integrator with data prediction (Lu et al.
 * 2022b, Algorithm 2), in σ-space as k-diffusion's
 * {@code sample_dpmpp_2m}.
 *
 * <p>With {@code λ = −log σ}, {@code h = λ_{i+1} − λ_i} and {@code r = h_{i−1}/h}:
 * {@code x̂_{i+1} = (σ_{i+1}/σ_i) x̂_i − (e^{−h} − 1)·D'}, {@code D' = (1 + 1/(2r)) D_i − (1/(2r)) D_{i−1}}.
 * The first step (no history) and the last step to σ = 0 use {@code D' = D_i} (DDIM, i.e. Euler in x̂),
 * so the step to 0 lands on {@code D_i}. 1 NFE per step; the recommended default for guided sampling.
 * No parameters.
 */
public record DpmSolverPlusPlus2M() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-2m", false,
      "DPM-Solver++(2M), multistep data prediction in λ = −log σ (Lu et al. 2022b Alg. 2; k-diffusion "
          + "sample_dpmpp_2m); order 2, 1 NFE/step",
      List.of(), p -> new DpmSolverPlusPlus2M());

  @Override
  public String id() {
    return "dpmpp-2m";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    try (SigmaSpace.Carried old = new SigmaSpace.Carried()) {
      return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
        NDArray denoised = model.denoise(x, sigma);
        NDArray next;
        if (sigmaNext == 0) {
          // Last step: σ_next == 0, the first-order step lands on the denoised estimate.
          next = denoised.duplicate();
        } else {
          double h = grid.lambda(i + 1) - grid.lambda(i);
          NDArray denoisedD = denoised;
          if (old.get() != null) {
            // 2nd-order multistep combination.
            double half = 1 / (2 * ((grid.lambda(i) - grid.lambda(i - 1)) / h));
            denoisedD = denoised.mul(1 + half).sub(old.get().mul(half));
          }
          next = x.mul(sigmaNext / sigma).sub(denoisedD.mul(Math.expm1(-h)));
        }
        old.replace(denoised, step);
        return new SigmaSpace.Stepped(next, denoised);
      });
    }
  }
}
