package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.StepInfo;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.tensor.Scalars;

/**
 * RePaint's resampling (Lugmayr et al. 2022, "RePaint: inpainting using denoising diffusion probabilistic
 * models", Algorithm 1, jump length 1): every step {@code σ_i → σ_{i+1}} of a base sampler is taken
 * {@code U} times; between two takes the state is noised back to σ_i with fresh noise,
 * {@code x̂_i = x̂_{i+1} + √(σ_i² − σ_{i+1}²)·ε} (the forward transition of the frame's variance-exploding
 * form, Lugmayr et al.'s {@code x_t ~ N(√(1−β_t) x_{t−1}, β_t I)}). Run it on an {@link Inpainting}
 * model with a stochastic base sampler (RePaint's is DDPM ancestral sampling): each round trip lets the
 * generated region re-harmonise with the known region, which replacement alone never corrects. The cost
 * is U times the base sampler's evaluations. {@code U = 1} is the base sampler step for step.
 */
public final class RePaint implements Sampler {
  private final Sampler base;
  private final int resamplings;

  /**
   * @param base the sampler taking each step (a stochastic one, such as euler-ancestral or ddpm)
   * @param resamplings U ≥ 1, the takes per step (Lugmayr et al. use 10)
   */
  public RePaint(Sampler base, int resamplings) {
    this.base = Objects.requireNonNull(base, "base");
    if (resamplings < 1 || resamplings > 1000) {
      throw new IllegalArgumentException("RePaint resamplings U must be in 1..1000, got " + resamplings);
    }
    this.resamplings = resamplings;
  }

  /** U. */
  public int resamplings() {
    return resamplings;
  }

  @Override
  public String id() {
    return "repaint(" + base.id() + ", U = " + resamplings + ")";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0;
    for (int i = 0; i < grid.steps(); i++) {
      Grid one = grid.interval(i);
      double up = Math.sqrt(grid.sigma(i) * grid.sigma(i) - grid.sigma(i + 1) * grid.sigma(i + 1));
      int takes = grid.sigma(i + 1) == 0 ? 1 : resamplings;
      for (int u = 0; u < takes; u++) {
        boolean last = u == takes - 1;
        int index = i;
        StepListener l = !last || listener == StepListener.NONE ? StepListener.NONE
            : info -> listener.onStep(new StepInfo(index, grid.steps(), info.sigma(), info.sigmaNext(),
                info.scaleNext(), info.xHat(), info.denoised()));
        NDArray next = base.run(model, one, x, noise, l);
        if (x != x0) {
          x.close();
        }
        if (!last) {
          try (StepScope step = new StepScope()) {
            // x_i = s_i·(x_{i+1}/s_{i+1} + √(σ_i² − σ_{i+1}²)·ε)
            NDArray eps = noise.randn(next.getManager(), next.getShape(), next.getDataType());
            NDArray back = Scalars.mul(Scalars.div(next, grid.s(i + 1)).add(Scalars.mul(eps, up)), grid.s(i));
            step.keep(back);
            next.close();
            next = back;
          }
        }
        x = next;
      }
    }
    return x == x0 ? x0.duplicate() : x;
  }
}
