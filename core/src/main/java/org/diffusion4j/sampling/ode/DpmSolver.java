package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * DPM-Solver (Lu et al. 2022, Algorithms 1–2 and App. B) and DPM-Solver++ (Lu et al. 2022b, Algorithms 1–2):
 * exponential integrators in λ, in noise-prediction form {@code x_t = (α_t/α_s) x_s − σ_t Σ_k h^{k+1}
 * φ_{k+1}(h) ε^{(k)}} ({@code algorithm=dpmsolver}) or data-prediction form {@code x_t = (σ_t/σ_s) x_s + α_t
 * Σ_k h^{k+1} φ_{k+1}(−h) x0^{(k)}} ({@code algorithm=dpmsolver++}), as LuChengTHU/dpm-solver's
 * {@code dpm_solver_pytorch.py} (formulas in {@link DpmUpdates}).
 *
 * <p>{@code singlestep}: every step is one DPM-Solver-k step (k NFE). With {@code inner=lambda} each grid
 * interval is a step and its intermediate points lie at λ_s + r h, r = ½ (k = 2) or ⅓, ⅔ (k = 3), mapped to t
 * by {@code tOfLambda}; with {@code inner=grid} the grid is the fine NFE lattice: a step spans k consecutive
 * intervals and the grid's inner points are its intermediate points — the reference's
 * {@code method="singlestep_fixed"} on the same skip type (which places the inner points by the skip type's
 * own spacing), so NFE = grid steps. {@code multistep}: the multistep DPM-Solver-k of the reference
 * ({@code multistep_dpm_solver_update}), warm-up at orders 1, 2, …, and with {@code lower-order-final} and
 * fewer than 10 steps order min(k, steps − i) at step i; 1 NFE per interval. Variant {@code midpoint} is
 * the reference's "dpmsolver" solver type, {@code taylor} its "taylor" type (eq. 9.4.11). The step to
 * σ = 0 is always first order and returns α·x0 (λ = ∞ there). DPM-Solver-1 is DDIM.
 *
 * @param order 1..3; the default {@code auto} is the reference's advice: 2 for multistep, 3 for singlestep
 * @param method {@code multistep} (default) or {@code singlestep}
 * @param taylor the Taylor variant instead of the midpoint one (default false: {@code variant=midpoint})
 * @param lowerOrderFinal lower orders on the last multistep steps when steps &lt; 10 (default true)
 * @param data the data-prediction form DPM-Solver++ ({@code algorithm=dpmsolver++}; default false)
 * @param innerGrid singlestep only: the grid's points are the intermediate points ({@code inner=grid})
 */
public record DpmSolver(int order, String method, boolean taylor, boolean lowerOrderFinal, boolean data,
    boolean innerGrid) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-solver", false,
      "DPM-Solver / DPM-Solver++ 1/2/3, singlestep or multistep (Lu et al. 2022; LuChengTHU dpm_solver_pytorch)",
      List.of(new ParamSpec("order", "auto", "1, 2, 3, or auto (2 for multistep, 3 for singlestep)"),
          new ParamSpec("method", "multistep", "multistep (1 NFE/step) or singlestep (order NFE/step)"),
          new ParamSpec("algorithm", "dpmsolver", "dpmsolver (noise prediction) or dpmsolver++ (data prediction)"),
          new ParamSpec("variant", "midpoint", "midpoint (reference 'dpmsolver') or taylor"),
          new ParamSpec("inner", "lambda", "singlestep: lambda (intermediate points at λ fractions) or grid "
              + "(a step spans order grid intervals; NFE = steps)"),
          new ParamSpec("lower-order-final", "true", "lower orders on the final multistep steps when steps < 10")),
      DpmSolver::create);

  /** The reference applies its lower-order final steps below this many steps. */
  static final int LOWER_ORDER_FINAL_BELOW = 10;

  public DpmSolver {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order must lie in [1, 3], got " + order);
    }
    if (!method.equals("multistep") && !method.equals("singlestep")) {
      throw new IllegalArgumentException("method must be one of multistep, singlestep, got '" + method + "'");
    }
    if (innerGrid && !method.equals("singlestep")) {
      throw new IllegalArgumentException("inner=grid applies to method=singlestep only, got method=" + method);
    }
  }

  /** The ε-form with λ-fraction intermediate points. */
  public DpmSolver(int order, String method, boolean taylor, boolean lowerOrderFinal) {
    this(order, method, taylor, lowerOrderFinal, false, false);
  }

  private static DpmSolver create(SamplerParams p) {
    String method = p.getChoice("method", "multistep", "singlestep");
    String o = p.getChoice("order", "auto", "1", "2", "3");
    int order = o.equals("auto") ? (method.equals("multistep") ? 2 : 3) : Integer.parseInt(o);
    boolean taylor = p.getChoice("variant", "midpoint", "taylor").equals("taylor");
    boolean data = p.getChoice("algorithm", "dpmsolver", "dpmsolver++").equals("dpmsolver++");
    boolean innerGrid = p.getChoice("inner", "lambda", "grid").equals("grid");
    return new DpmSolver(order, method, taylor, p.getBoolean("lower-order-final"), data, innerGrid);
  }

  @Override
  public String id() {
    return "dpm-solver";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return method.equals("singlestep") ? singlestep(model, grid, x0, listener) : multistep(model, grid, x0, listener);
  }

  private NDArray singlestep(Denoiser model, Grid grid, NDArray x0, StepListener listener) {
    int span = innerGrid ? order : 1;
    int budget = grid.endsAtZero() ? grid.steps() - 1 : grid.steps();
    if (innerGrid && budget % order != 0) {
      throw new IllegalArgumentException("dpm-solver inner=grid: the grid's " + budget + " intervals with sigma > 0 "
          + "are not a multiple of order " + order + "; use a multiple of " + order + " steps"
          + (grid.endsAtZero() ? " (plus the final step to sigma = 0)" : ""));
    }
    int outer = innerGrid ? budget / order + (grid.endsAtZero() ? 1 : 0) : grid.steps();
    NDArray x = x0.duplicate();
    int a = 0;
    for (int i = 0; i < outer; i++) {
      boolean last = grid.endsAtZero() && i == outer - 1;
      Point s = LambdaSpace.at(grid, a);
      Point t = LambdaSpace.at(grid, last ? grid.steps() : a + span);
      try (StepScope step = new StepScope()) {
        Eval e = LambdaSpace.eval(model, x, s);
        NDArray ms = DpmUpdates.value(e, data);
        NDArray next;
        if (order == 1 || t.isData()) {
          // DPM-Solver-1, or the last step to σ = 0.
          next = DpmUpdates.first(x, e, s, t, data);
        } else if (order == 2) {
          // DPM-Solver-2 with r1 = 1/2 or the grid's inner point.
          Point s1 = innerGrid ? LambdaSpace.at(grid, a + 1)
              : LambdaSpace.atLambda(grid.process(), s.lambda() + 0.5 * (t.lambda() - s.lambda()));
          NDArray m1 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.first(x, ms, s, s1, data), s1), data);
          next = DpmUpdates.second(x, ms, m1, s, s1, t, taylor, data);
        } else {
          // DPM-Solver-3 with r1 = 1/3, r2 = 2/3 or the grid's two inner points.
          double h = t.lambda() - s.lambda();
          Point s1 = innerGrid ? LambdaSpace.at(grid, a + 1) : LambdaSpace.atLambda(grid.process(), s.lambda() + h / 3);
          Point s2 = innerGrid ? LambdaSpace.at(grid, a + 2)
              : LambdaSpace.atLambda(grid.process(), s.lambda() + 2 * h / 3);
          NDArray m1 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.first(x, ms, s, s1, data), s1), data);
          NDArray u2 = DpmUpdates.thirdIntermediate(x, ms, m1, s, s1, s2, data);
          NDArray m2 = DpmUpdates.value(LambdaSpace.eval(model, u2, s2), data);
          next = DpmUpdates.third(x, ms, m1, m2, s, s1, s2, t, taylor, data);
        }
        step.keep(next);
        x.close();
        x = next;
        if (innerGrid) {
          LambdaSpace.notify(listener, i, outer, s, t, x, e.x0());
        } else {
          SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
        }
      }
      a += last ? 1 : span;
    }
    return x;
  }

  private NDArray multistep(Denoiser model, Grid grid, NDArray x0, StepListener listener) {
    int n = grid.steps();
    NDArray x = x0.duplicate();
    try (LambdaSpace.History history = new LambdaSpace.History(order)) {
      for (int i = 0; i < n; i++) {
        Point s = LambdaSpace.at(grid, i);
        Point t = LambdaSpace.at(grid, i + 1);
        try (StepScope step = new StepScope()) {
          Eval e = LambdaSpace.eval(model, x, s);
          history.push(step, DpmUpdates.value(e, data), s);
          int k = Math.min(order, i + 1);
          if (lowerOrderFinal && n < LOWER_ORDER_FINAL_BELOW) {
            k = Math.min(k, n - i);
          }
          NDArray next;
          if (k == 1 || t.isData()) {
            // DPM-Solver-1 (warm-up, lower-order final, or the last step to σ = 0).
            next = DpmUpdates.first(x, e, s, t, data);
          } else if (k == 2) {
            // Multistep DPM-Solver-2.
            next = DpmUpdates.multistep2(x, history.eps(0), history.eps(1), s, history.point(1), t, taylor, data);
          } else {
            // Multistep DPM-Solver-3.
            next = DpmUpdates.multistep3(x, history.eps(0), history.eps(1), history.eps(2), s, history.point(1),
                history.point(2), t, data);
          }
          step.keep(next);
          x.close();
          x = next;
          SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
        }
      }
    }
    return x;
  }
}
