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

  /** One step of a σ-space sampler from grid point {@code i} to {@code i + 1}, inside the step's scope. */
  @FunctionalInterface
  public interface Step {
    /**
     * @param xHat the state x̂ at point i (closed by {@link #march} once the step is taken)
     * @param scope the step's scope: arrays created in the step are closed with it unless kept
     * @return the state at point i + 1 and the denoised estimate the listener is told about
     */
    Stepped take(int i, double sigma, double sigmaNext, NDArray xHat, StepScope scope);
  }

  /** A step's result: the next state and the step's denoised estimate. */
  public record Stepped(NDArray next, NDArray denoised) {}

  /**
   * The loop every σ-space sampler shares: x̂ = x/s_0; for each grid interval one {@code step} in its own
   * {@link StepScope} (its intermediates closed, the next state kept and the previous one closed, so the loop
   * runs flat in memory), the listener told; the result back in process coordinates.
   */
  public static NDArray march(Grid grid, NDArray x0, StepListener listener, Step step) {
    NDArray x = enter(x0, grid);
    for (int i = 0; i < grid.steps(); i++) {
      try (StepScope scope = new StepScope()) {
        Stepped s = step.take(i, grid.sigma(i), grid.sigma(i + 1), x, scope);
        NDArray next = scope.keep(s.next());
        if (next != x) {
          x.close();
        }
        x = next;
        notify(listener, grid, i, x, s.denoised());
      }
    }
    return leave(x, grid);
  }

  /**
   * An array a multistep sampler carries from one step to the next, outside the steps' scopes (a previous
   * denoised estimate, a history of them); closes what it holds when replaced or closed.
   */
  public static final class Carried implements AutoCloseable {
    private NDArray value;

    /** The carried array, or null before the first {@link #replace}. */
    public NDArray get() {
      return value;
    }

    /** Carries {@code a} (kept out of {@code scope}) into the next step; closes what was carried before. */
    public NDArray replace(NDArray a, StepScope scope) {
      scope.keep(a);
      if (value != null && value != a) {
        value.close();
      }
      value = a;
      return a;
    }

    /** Moves what {@code older} should now carry: this one's value goes to it (closing its own), this one is empty. */
    public void passTo(Carried older) {
      if (older.value != null && older.value != value) {
        older.value.close();
      }
      older.value = value;
      value = null;
    }

    @Override
    public void close() {
      if (value != null) {
        value.close();
        value = null;
      }
    }
  }

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
