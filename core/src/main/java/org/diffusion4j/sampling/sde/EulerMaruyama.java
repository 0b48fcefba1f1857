package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * Euler–Maruyama on the chosen process's reverse SDE
 * {@code dx = [f(t)x − g²(t)∇log p_t(x)]dt + g(t)dw̄} (Song et al. 2021 eq. 6),
 * on the grid's times, in the process's own coordinates x, with the score
 * {@code (α·x0 − x)/σ²} from {@code x0 = D(x/α; σ_rel)}.
 *
 * <p>Step i → i+1 with {@code Δt = t_i − t_{i+1}}:
 * {@code x ← x − [f(t_i)x − g²(t_i)·score]Δt + sqrt(g²(t_i)Δt)·z}. The last step is noise-free: into
 * σ = 0 it returns the x0-estimate (Tweedie, {@code x + σ²·score}), to σ_min &gt; 0 the EM mean
 * (score_sde's {@code x_mean}, its noise removal). Weak order 1; 1 NFE per step. Use it with many
 * steps (Score SDE: 1000) on uniform-t grids; no parameters.
 */
public record EulerMaruyama() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("euler-maruyama", true,
      "Euler–Maruyama on the process's reverse SDE (Song et al. 2021 eq. 6; score_sde EulerMaruyamaPredictor); 1 NFE/step",
      List.of(), p -> new EulerMaruyama());

  @Override
  public String id() {
    return "euler-maruyama";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0;
    for (int i = 0; i < grid.steps(); i++) {
      x = ReverseSde.eulerMaruyamaStep(model, grid, i, x, x0, noise, listener);
    }
    return x;
  }
}
