package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * DPM-Solver-fast (Lu et al. 2022 §3.4, App. D.1): singlestep DPM-Solver-1/2/3 mixed to spend an NFE
 * budget exactly, as LuChengTHU's {@code get_orders_and_timesteps_for_singlestep_solver}).
 * For a budget M and order 3, K = ⌊M/3⌋ + 1 steps of orders [3,…,3,2,1] (M ≡ 0 mod 3), [3,…,3,1]
 * (≡ 1) or [3,…,3,2] (≡ 2); order 2: [2,…,2] or [2,…,2,1]; order 1: M DDIM steps.
 *
 * <p>How the grid maps to the budget: the grid is the fine NFE lattice. Its M intervals with σ &gt; 0 at
 * both ends are the budget; an order-k step spans k consecutive intervals and uses the grid's inner
 * points as its intermediate points (r_j = (λ_{a+j} − λ_a)/h) — the reference's {@code time_uniform} /
 * {@code time_quadratic} construction, which this reproduces for the same fine grid. If the grid ends
 * at σ = 0 its last interval is a final denoising step ({@code denoise_to_zero}, 1 NFE), so the total
 * NFE is always {@code grid.steps()}. The listener sees one event per outer step.
 *
 * <p>{@code inner=lambda} is the reference's {@code logSNR} construction instead: the K outer steps are
 * uniform in λ between the grid's first point and its last point with σ &gt; 0 (the points in between are
 * not used), and the intermediate points of a step lie at λ fractions ½ or ⅓, ⅔. {@code algorithm=dpmsolver++}
 * takes the data-prediction updates of DPM-Solver++ (Lu et al. 2022b).
 *
 * @param order the highest order 1..3 (default 3)
 * @param taylor the Taylor variant of the high-order steps (default false: midpoint)
 * @param data the data-prediction form DPM-Solver++ (default false)
 * @param innerLambda uniform-λ outer steps with λ-fraction intermediate points (default false: the grid's)
 */
public record DpmSolverFast(int order, boolean taylor, boolean data, boolean innerLambda) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-solver-fast", false,
      "DPM-Solver-fast: singlestep orders [3,..,3,2,1] spending NFE = grid steps (Lu et al. 2022 App. D.1)",
      List.of(ParamSpec.number("order", "3", "highest order", ParamRange.ints(1, 3)),
          new ParamSpec("variant", "midpoint", "midpoint (reference 'dpmsolver') or taylor"),
          new ParamSpec("algorithm", "dpmsolver", "dpmsolver (noise prediction) or dpmsolver++ (data prediction)"),
          new ParamSpec("inner", "grid", "grid (steps span grid intervals) or lambda (uniform-λ outer steps, the "
              + "reference's logSNR construction)")),
      p -> new DpmSolverFast(p.getInt("order"), p.getChoice("variant", "midpoint", "taylor").equals("taylor"),
          p.getChoice("algorithm", "dpmsolver", "dpmsolver++").equals("dpmsolver++"),
          p.getChoice("inner", "grid", "lambda").equals("lambda")));

  public DpmSolverFast {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order must lie in [1, 3], got " + order);
    }
  }

  /** The ε-form on the grid's own points. */
  public DpmSolverFast(int order, boolean taylor) {
    this(order, taylor, false, false);
  }

  @Override
  public String id() {
    return "dpm-solver-fast";
  }

  /** The reference's order schedule for an NFE budget {@code nfe} ≥ 1. */
  static List<Integer> orders(int nfe, int order) {
    List<Integer> out = new ArrayList<>();
    int k;
    switch (order) {
      case 3:
        k = nfe / 3 + 1;
        int threes = nfe % 3 == 0 ? k - 2 : k - 1;
        for (int i = 0; i < threes; i++) {
          out.add(3);
        }
        if (nfe % 3 == 0) {
          out.add(2);
          out.add(1);
        } else {
          out.add(nfe % 3 == 1 ? 1 : 2);
        }
        break;
      case 2:
        for (int i = 0; i < nfe / 2; i++) {
          out.add(2);
        }
        if (nfe % 2 == 1) {
          out.add(1);
        }
        break;
      default:
        for (int i = 0; i < nfe; i++) {
          out.add(1);
        }
    }
    return out;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int budget = grid.endsAtZero() ? grid.steps() - 1 : grid.steps();
    List<Integer> orders = budget > 0 ? orders(budget, order) : List.of();
    int events = orders.size() + (grid.endsAtZero() ? 1 : 0);
    NDArray x = x0.duplicate();
    int a = 0;
    // inner=lambda: the outer points, uniform in λ from the first point to the last σ > 0 point.
    Point[] outer = null;
    if (innerLambda && !orders.isEmpty()) {
      outer = new Point[orders.size() + 1];
      double l0 = grid.lambda(0);
      double l1 = grid.lambda(budget);
      outer[0] = LambdaSpace.at(grid, 0);
      for (int k = 1; k < orders.size(); k++) {
        outer[k] = LambdaSpace.atLambda(grid.process(), l0 + (l1 - l0) * k / orders.size());
      }
      outer[orders.size()] = LambdaSpace.at(grid, budget);
    }
    for (int k = 0; k < events; k++) {
      int ord = k < orders.size() ? orders.get(k) : 1;
      boolean zero = k >= orders.size();
      Point s = outer == null || zero ? LambdaSpace.at(grid, a) : outer[k];
      Point t = outer == null || zero ? LambdaSpace.at(grid, a + ord) : outer[k + 1];
      try (StepScope step = new StepScope()) {
        Eval e = LambdaSpace.eval(model, x, s);
        NDArray ms = DpmUpdates.value(e, data);
        NDArray next;
        if (ord == 1) {
          // DPM-Solver-1, or the final denoising step to σ = 0.
          next = DpmUpdates.first(x, e, s, t, data);
        } else {
          double h = t.lambda() - s.lambda();
          Point s1 = outer == null ? LambdaSpace.at(grid, a + 1)
              : LambdaSpace.atLambda(grid.process(), s.lambda() + h / ord);
          NDArray m1 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.first(x, ms, s, s1, data), s1), data);
          if (ord == 2) {
            // DPM-Solver-2 with the grid's inner point (or r1 = 1/2).
            next = DpmUpdates.second(x, ms, m1, s, s1, t, taylor, data);
          } else {
            // DPM-Solver-3 with the grid's two inner points (or r = 1/3, 2/3).
            Point s2 = outer == null ? LambdaSpace.at(grid, a + 2)
                : LambdaSpace.atLambda(grid.process(), s.lambda() + 2 * h / 3);
            NDArray u2 = DpmUpdates.thirdIntermediate(x, ms, m1, s, s1, s2, data);
            NDArray m2 = DpmUpdates.value(LambdaSpace.eval(model, u2, s2), data);
            next = DpmUpdates.third(x, ms, m1, m2, s, s1, s2, t, taylor, data);
          }
        }
        step.keep(next);
        x.close();
        x = next;
        LambdaSpace.notify(listener, k, events, s, t, x, e.x0());
      }
      a += ord;
    }
    return x;
  }
}
