package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * Shared steps of the samplers that work on the chosen process's reverse SDE in its own coordinates
 * x (Song et al. 2021, eq. 6): the x0-estimate {@code D(x/α_i; σ_i)}, the score
 * {@code ∇log p_t(x) = (α_i D − x)/σ_i²} (absolute σ) and the Euler–Maruyama predictor.
 */
final class ReverseSde {
  private ReverseSde() {}

  /** The x0-estimate at grid point i: {@code D(x/α_i; σ_i)}. */
  static NDArray denoise(Denoiser model, Grid grid, int i, NDArray x) {
    return model.denoise(x.div(grid.alpha(i)), grid.sigma(i));
  }

  /** The score at grid point i: {@code (α_i·x0 − x)/σ_i²}, σ_i the absolute noise std. */
  static NDArray score(Grid grid, int i, NDArray x, NDArray denoised) {
    double var = grid.sigmaAbs(i) * grid.sigmaAbs(i);
    return denoised.mul(grid.alpha(i) / var).sub(x.div(var));
  }

  /**
   * The whole Euler–Maruyama step i → i+1 in its own {@link StepScope}: denoise, {@link #predictor},
   * notify; closes {@code x} unless it is the caller's {@code input}.
   */
  static NDArray eulerMaruyamaStep(Denoiser model, Grid grid, int i, NDArray x, NDArray input,
      NoiseSource noise, StepListener listener) {
    try (StepScope step = new StepScope()) {
      NDArray denoised = denoise(model, grid, i, x);
      NDArray next = step.keep(predictor(grid, i, x, denoised, noise));
      if (x != input) {
        x.close();
      }
      SigmaSpace.notifyProcess(listener, grid, i, next, denoised);
      return next;
    }
  }

  /**
   * One Euler–Maruyama step of {@code dx = [f(t)x − g²(t)∇log p_t(x)]dt + g(t)dw̄} from point i to
   * i + 1 (Song et al. 2021 eq. 6; score_sde {@code EulerMaruyamaPredictor} with
   * {@code Δt = t_i − t_{i+1}}): {@code x − [f x − g²·score]Δt + g·sqrt(Δt)·z}, written as
   * {@code (1 − Δt(f + g²/σ²))x + (Δt g² α/σ²)D + sqrt(g²Δt)·z}.
   *
   * <p>The last step is noise-free: into σ = 0 it returns the x0-estimate {@code s_N·D} (Tweedie,
   * {@code x + σ²·score}: where the process's time of σ = 0 is not a point of its SDE, as for VE and
   * discrete DDPM, no drift is needed); to a grid ending at σ_min &gt; 0 it returns the EM mean, score_sde's
   * {@code x_mean} (its noise removal).
   *
   * @param noise the source of the step's N(0, I) draw (not used on the last step)
   */
  static NDArray predictor(Grid grid, int i, NDArray x, NDArray denoised, NoiseSource noise) {
    return predictor(grid, i, x, denoised, noise, 1, true);
  }

  /**
   * The Euler–Maruyama step of the member {@code γ² = r·g²} of the reverse-SDE family
   * {@code dx = [f x − ½(g² + γ²)∇log p_t]dt + γ dw̄} (Song et al. 2021 eq. 13 for r = 0, eq. 6 for r = 1):
   * {@code (1 − Δt(f + c/σ²))x + (Δt c α/σ²)D + sqrt(r g²Δt)·z} with {@code c = g²(1 + r)/2}; r = 1 is
   * {@link #predictor(Grid, int, NDArray, NDArray, NoiseSource)} bit for bit. Last steps as there.
   *
   * @param r γ²/g² on this step, in [0, 1]
   * @param draw whether this run draws noise: then every step but the last takes one draw, also where
   *     r = 0, so that runs differing only in where γ is switched on share their noise
   */
  static NDArray predictor(Grid grid, int i, NDArray x, NDArray denoised, NoiseSource noise, double r,
      boolean draw) {
    if (grid.sigma(i + 1) == 0) {
      // Last step: σ_next == 0, the x0-estimate.
      return denoised.mul(grid.alpha(i + 1));
    }
    NoiseProcess p = grid.process();
    double t = grid.t(i);
    double dt = t - grid.t(i + 1);
    double g2 = p.g2(t);
    double c = g2 * ((1 + r) / 2);
    double var = grid.sigmaAbs(i) * grid.sigmaAbs(i);
    NDArray mean = x.mul(1 - dt * (p.f(t) + c / var)).add(denoised.mul(dt * c * grid.alpha(i) / var));
    if (i == grid.steps() - 1 || !draw) {
      // Last step to σ_min > 0 (or a run without noise): the noise-free mean.
      return mean;
    }
    // Euler–Maruyama step.
    NDArray z = noise.randn(x.getManager(), x.getShape(), x.getDataType());
    return r == 0 ? mean : mean.add(z.mul(Math.sqrt(r * g2 * dt)));
  }
}
