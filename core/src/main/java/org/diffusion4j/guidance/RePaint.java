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
 * models", Algorithm 1 and §4.2 "jumps"): the base sampler's steps are taken in a schedule that goes
 * back up the grid. With jump length j and r resamplings, whenever the state reaches a jump point —
 * grid indices {@code N−1, N−1−j, N−1−2j, …} that are ≥ j — it is noised back j steps with fresh noise,
 * {@code x̂_{i−j} = x̂_i + √(σ_{i−j}² − σ_i²)·ε} (the forward transition of the frame's variance-exploding
 * form, Lugmayr et al.'s {@code q(x_{t+j} | x_t)}), and the j steps are taken again, r − 1 times per jump
 * point; so every step from the lowest jump's target to σ_{N−1} is taken r times (for j = 1: all but the
 * last), the others once. {@link #schedule} gives the order. Run it on
 * an {@link Inpainting} model with a stochastic base sampler (RePaint's is DDPM ancestral sampling):
 * each round trip lets the generated region re-harmonise with the known region, which replacement alone
 * never corrects; longer jumps let it re-harmonise over coarser structure (Lugmayr et al. use j = 10,
 * r = 10 on 250 steps). The cost is about r times the base sampler's evaluations. r = 1 is the base
 * sampler step for step; j = 1 takes every step r times in a row.
 */
public final class RePaint implements Sampler {
  private final Sampler base;
  private final int resamplings;
  private final int jump;

  /**
   * Jump length 1.
   *
   * @param base the sampler taking each step (a stochastic one, such as euler-ancestral or ddpm)
   * @param resamplings r ≥ 1, the takes per step (Lugmayr et al. use 10)
   */
  public RePaint(Sampler base, int resamplings) {
    this(base, resamplings, 1);
  }

  /**
   * @param base the sampler taking each step (a stochastic one, such as euler-ancestral or ddpm)
   * @param resamplings r ≥ 1, the takes per step (Lugmayr et al. use 10)
   * @param jump j ≥ 1, the steps gone back at a time (Lugmayr et al. use 10); the grid needs at least j + 1
   *     steps when r > 1
   */
  public RePaint(Sampler base, int resamplings, int jump) {
    this.base = Objects.requireNonNull(base, "base");
    if (resamplings < 1 || resamplings > 1000) {
      throw new IllegalArgumentException("RePaint resamplings r must be in 1..1000, got " + resamplings);
    }
    if (jump < 1 || jump > 10_000) {
      throw new IllegalArgumentException("RePaint jump length j must be in 1..10000, got " + jump);
    }
    this.resamplings = resamplings;
    this.jump = jump;
  }

  /** r. */
  public int resamplings() {
    return resamplings;
  }

  /** j. */
  public int jump() {
    return jump;
  }

  @Override
  public String id() {
    return "repaint(" + base.id() + ", r = " + resamplings + (jump == 1 ? "" : ", j = " + jump) + ")";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  /**
   * The grid indices the state visits, from 0 (the prior) to {@code steps} (σ = 0): a step down where
   * the next index is one more, a jump back where it is j less.
   */
  public static int[] schedule(int steps, int resamplings, int jump) {
    if (steps < 1) {
      throw new IllegalArgumentException("RePaint needs a grid of at least one step, got " + steps);
    }
    if (resamplings > 1 && jump > steps - 1) {
      throw new IllegalArgumentException("RePaint jump length j = " + jump + " needs a grid of at least j + 1 = "
          + (jump + 1) + " steps to jump back from σ_{N−1}; got " + steps + " steps (use --jump ≤ " + Math.max(1, steps - 1)
          + " or more --steps)");
    }
    int[] left = new int[steps + 1];
    for (int p = steps - 1; p >= jump; p -= jump) {
      left[p] = resamplings - 1;
    }
    java.util.List<Integer> visits = new java.util.ArrayList<>();
    int i = 0;
    visits.add(0);
    while (i < steps) {
      i++;
      visits.add(i);
      if (left[i] > 0) {
        left[i]--;
        i -= jump;
        visits.add(i);
      }
    }
    return visits.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int[] visits = schedule(grid.steps(), resamplings, jump);
    // The last time each step i → i+1 is taken: the pass the listener sees.
    int[] lastTake = new int[grid.steps()];
    for (int k = 1; k < visits.length; k++) {
      if (visits[k] == visits[k - 1] + 1) {
        lastTake[visits[k - 1]] = k;
      }
    }
    NDArray x = x0;
    for (int k = 1; k < visits.length; k++) {
      int from = visits[k - 1];
      int to = visits[k];
      NDArray next;
      if (to == from + 1) {
        StepListener l = lastTake[from] != k || listener == StepListener.NONE ? StepListener.NONE
            : info -> listener.onStep(new StepInfo(from, grid.steps(), info.sigma(), info.sigmaNext(),
                info.scaleNext(), info.xHat(), info.denoised()));
        next = base.run(model, grid.interval(from), x, noise, l);
      } else {
        double up = Math.sqrt(grid.sigma(to) * grid.sigma(to) - grid.sigma(from) * grid.sigma(from));
        try (StepScope step = new StepScope()) {
          // x_to = s_to·(x_from/s_from + √(σ_to² − σ_from²)·ε)
          NDArray eps = noise.randn(x.getManager(), x.getShape(), x.getDataType());
          next = Scalars.mul(Scalars.div(x, grid.s(from)).add(Scalars.mul(eps, up)), grid.s(to));
          step.keep(next);
        }
      }
      if (x != x0) {
        x.close();
      }
      x = next;
    }
    return x == x0 ? x0.duplicate() : x;
  }
}
