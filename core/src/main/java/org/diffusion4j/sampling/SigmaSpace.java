package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.schedule.Grid;

/**
 * Shared plumbing of samplers that run, as k-diffusion's do, on the scaled state {@code x̂ = x/s}
 * over the grid's σ's, whatever the process (the EDM observation: the PF-ODE in x̂ and σ is the same
 * for every process).
 */
public final class SigmaSpace {
  private SigmaSpace() {}

  /** x̂ at grid point 0: a new array {@code x / s_0}. */
  public static NDArray enter(NDArray x, Grid grid) {
    return x.div(grid.s(0));
  }

  /** The result in process coordinates at the last point: {@code s_N·x̂}; closes {@code xHat}. */
  public static NDArray leave(NDArray xHat, Grid grid) {
    double s = grid.s(grid.size() - 1);
    if (s == 1) {
      return xHat;
    }
    NDArray out = xHat.mul(s);
    xHat.close();
    return out;
  }

  /** {@code d = (x̂ − D)/σ}: the PF-ODE derivative dx̂/dσ (Karras et al. eq. 4; k-diffusion to_d). */
  public static NDArray derivative(NDArray xHat, NDArray denoised, double sigma) {
    return xHat.sub(denoised).div(sigma);
  }

  /** Tells the listener about step {@code i} (state x̂ at point i+1), unless it is {@link StepListener#NONE}. */
  public static void notify(StepListener listener, Grid grid, int i, NDArray xHat, NDArray denoised) {
    if (listener != StepListener.NONE) {
      listener.onStep(new StepInfo(i, grid.steps(), grid.sigma(i), grid.sigma(i + 1), grid.s(i + 1), xHat,
          denoised));
    }
  }

  /** Tells the listener about step {@code i} for a sampler whose state x is in process coordinates. */
  public static void notifyProcess(StepListener listener, Grid grid, int i, NDArray x, NDArray denoised) {
    if (listener != StepListener.NONE) {
      try (StepScope scope = new StepScope()) {
        NDArray xHat = x.div(grid.s(i + 1));
        listener.onStep(new StepInfo(i, grid.steps(), grid.sigma(i), grid.sigma(i + 1), grid.s(i + 1), xHat,
            denoised));
      }
    }
  }
}
