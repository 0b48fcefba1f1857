package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * A sampler's cost in denoiser evaluations (NFE) on a grid, and the most grid steps that fit an NFE
 * budget — how samplers of different orders are compared at equal cost (Karras et al. 2022 §3; Lu et
 * al. 2022 §5 plot error against NFE, not steps).
 *
 * <p>The NFE of a fixed-step sampler depends only on its grid, so it is counted by running the sampler
 * once on one scalar sample with a stand-in denoiser ({@code D = 0}) and zero noise. Adaptive samplers
 * (rk45, dpm-solver-adaptive) choose their own steps, so no grid fixes their cost: they are refused.
 */
public final class NfeBudget {
  /** Samplers whose NFE depends on the model, not the grid. */
  public static final Set<String> ADAPTIVE = Set.of("rk45", "dpm-solver-adaptive");

  /** The most steps searched. */
  public static final int MAX_STEPS = 10_000;

  private NfeBudget() {}

  /** Whether {@code sampler}'s NFE is fixed by its grid. */
  public static boolean fixedCost(Sampler sampler) {
    return !ADAPTIVE.contains(sampler.id());
  }

  /** The denoiser evaluations {@code sampler} makes on {@code grid}. */
  public static int nfe(Sampler sampler, Grid grid) {
    requireFixed(sampler);
    Denoiser zero = (x, sigma, c) -> x.zerosLike();
    NoiseSource quiet = (m, s, d) -> m.zeros(s, d);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.ones(new Shape(1, 1), DataType.FLOAT64).mul(grid.s(0) * grid.sigma(0));
      return sampler.sample(zero, grid, x, quiet, StepListener.NONE).nfe();
    }
  }

  /**
   * The most grid steps whose NFE is at most {@code budget}, with that NFE; empty when even one step
   * costs more.
   */
  public static java.util.Optional<Fit> fit(Sampler sampler, GridSpec spec, NoiseProcess process, int budget) {
    requireFixed(sampler);
    if (budget < 1) {
      throw new IllegalArgumentException("an NFE budget must be >= 1, got " + budget);
    }
    // NFE grows with steps for every fixed-step method (≥ 1 evaluation per step), so the most steps within
    // the budget lie in [1, budget] and a bisection finds them.
    int lo = 1;
    Integer nfeLo = nfeOrNull(sampler, spec, process, lo);
    if (nfeLo == null) {
      lo = 2;
      nfeLo = nfeOrNull(sampler, spec, process, lo);
    }
    if (nfeLo == null || nfeLo > budget) {
      return java.util.Optional.empty();
    }
    int hi = Math.min(MAX_STEPS, budget) + 1; // invariant: nfe(lo) ≤ budget < nfe(hi) (hi may be unevaluated)
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      Integer n = nfeOrNull(sampler, spec, process, mid);
      if (n != null && n <= budget) {
        lo = mid;
        nfeLo = n;
      } else {
        hi = mid;
      }
    }
    return java.util.Optional.of(new Fit(lo, nfeLo));
  }

  private static Integer nfeOrNull(Sampler sampler, GridSpec spec, NoiseProcess process, int steps) {
    Grid g;
    try {
      g = spec.build(process, steps);
    } catch (IllegalArgumentException e) {
      if (steps <= 2) {
        return null; // some grids need 2 points
      }
      throw e;
    }
    return nfe(sampler, g);
  }

  /** Steps and the NFE they cost. */
  public record Fit(int steps, int nfe) {}

  private static void requireFixed(Sampler s) {
    if (!fixedCost(s)) {
      throw new IllegalArgumentException(s.id() + " is adaptive: its NFE depends on the model and tolerance, not on "
          + "the grid, so it cannot be given an NFE budget; compare fixed-step samplers (see d4j samplers)");
    }
  }
}
