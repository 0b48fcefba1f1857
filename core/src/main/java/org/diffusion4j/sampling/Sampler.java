package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.schedule.Grid;

/**
 * A sampler: an immutable value of its hyper-parameters that owns its loop and calls the denoiser as
 * often as its method needs (k-diffusion, EDM). All run state is local to {@link #run}.
 *
 * <p>Contract: {@code x} is the initial state in the process's own coordinates at grid point 0
 * ({@code x = s_0·x̂}); the result is the state at the last grid point, in the process's coordinates
 * (data scale when the grid ends at σ = 0). The input is not closed; every intermediate array is
 * released per step (one {@link StepScope} per step), so memory stays flat over long runs.
 */
public interface Sampler {

  /** The CLI identifier, e.g. {@code "heun"}. */
  String id();

  /**
   * Whether this configuration draws fresh noise (an SDE sampler with η &gt; 0, churn &gt; 0, …); a
   * deterministic configuration follows the PF-ODE and is compared with it.
   */
  default boolean stochastic() {
    return false;
  }

  /**
   * Integrates from the first to the last grid point.
   *
   * @param model the denoiser D(x̂; σ)
   * @param grid the grid, with its process
   * @param x the initial state (not closed)
   * @param noise fresh noise for stochastic samplers (deterministic ones ignore it)
   * @param listener observes every step
   * @return the final state
   */
  NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener);

  /** {@link #run} with the number of denoiser evaluations counted. */
  default SampleResult sample(Denoiser model, Grid grid, NDArray x, NoiseSource noise,
      StepListener listener) {
    int[] nfe = {0};
    Denoiser counted = (xx, sigma, c) -> {
      nfe[0]++;
      return model.denoise(xx, sigma, c);
    };
    NDArray out = run(counted, grid, x, noise, listener == null ? StepListener.NONE : listener);
    return new SampleResult(out, nfe[0]);
  }
}
