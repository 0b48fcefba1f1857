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
 * DPM-Solver in ε-form (Lu et al. 2022, Algorithms 1–2 and App. B):
 * exponential integrators in λ, {@code x_t = (α_t/α_s) x_s − σ_t Σ_k h^{k+1} φ_{k+1}(h) ε^{(k)}},
 * as LuChengTHU/dpm-solver's {@code dpm_solver_pytorch.py} with {@code algorithm_type="dpmsolver"}.
 *
 * <p>{@code singlestep}: every grid interval is one DPM-Solver-k step with intermediate points at
 * λ_s + r h, r = ½ (k = 2) or ⅓, ⅔ (k = 3), mapped to t by {@code tOfLambda}; k NFE per interval.
 * {@code multistep}: the multistep DPM-Solver-k of the reference ({@code multistep_dpm_solver_update}),
 * warm-up at orders 1, 2, …, and with {@code lower-order-final} and fewer than 10 steps order
 * min(k, steps − i) at step i; 1 NFE per interval. Variant {@code midpoint} is the reference's
 * "dpmsolver" solver type (DPM-Solver-2 = Alg. 5 at r = ½), {@code taylor} its "taylor" type (eq. 9.4.11).
 * The step to σ = 0 is always first order and returns α·x0 (λ = ∞ there). DPM-Solver-1 is DDIM.
 *
 * @param order 1..3; the default {@code auto} is the reference's advice: 2 for multistep, 3 for singlestep
 * @param method {@code multistep} (default) or {@code singlestep}
 * @param taylor the Taylor variant instead of the midpoint one (default false: {@code variant=midpoint})
 * @param lowerOrderFinal lower orders on the last multistep steps when steps &lt; 10 (default true)
 */
public record DpmSolver(int order, String method, boolean taylor, boolean lowerOrderFinal) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-solver", false,
      "DPM-Solver-1/2/3, ε-form, singlestep or multistep (Lu et al. 2022; LuChengTHU dpm_solver_pytorch)",
      List.of(new ParamSpec("order", "auto", "1, 2, 3, or auto (2 for multistep, 3 for singlestep)"),
          new ParamSpec("method", "multistep", "multistep (1 NFE/step) or singlestep (order NFE/step)"),
          new ParamSpec("variant", "midpoint", "midpoint (reference 'dpmsolver') or taylor"),
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
  }

  private static DpmSolver create(SamplerParams p) {
    String method = p.getChoice("method", "multistep", "singlestep");
    String o = p.getChoice("order", "auto", "1", "2", "3");
    int order = o.equals("auto") ? (method.equals("multistep") ? 2 : 3) : Integer.parseInt(o);
    boolean taylor = p.getChoice("variant", "midpoint", "taylor").equals("taylor");
    return new DpmSolver(order, method, taylor, p.getBoolean("lower-order-final"));
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
    NDArray x = x0.duplicate();
    for (int i = 0; i < grid.steps(); i++) {
      Point s = LambdaSpace.at(grid, i);
      Point t = LambdaSpace.at(grid, i + 1);
      try (StepScope step = new StepScope()) {
        Eval e = LambdaSpace.eval(model, x, s);
        NDArray next;
        if (order == 1 || t.isData()) {
          // DPM-Solver-1, or the last step to σ = 0.
          next = LambdaSpace.firstOrder(x, e, s, t);
        } else if (order == 2) {
          // DPM-Solver-2 with r1 = 1/2.
          Point s1 = LambdaSpace.atLambda(grid.process(), s.lambda() + 0.5 * (t.lambda() - s.lambda()));
          NDArray eps1 = LambdaSpace.eval(model, LambdaSpace.firstOrder(x, e, s, s1), s1).eps();
          next = second(x, e.eps(), eps1, s, s1, t, taylor);
        } else {
          // DPM-Solver-3 with r1 = 1/3, r2 = 2/3.
          double h = t.lambda() - s.lambda();
          Point s1 = LambdaSpace.atLambda(grid.process(), s.lambda() + h / 3);
          Point s2 = LambdaSpace.atLambda(grid.process(), s.lambda() + 2 * h / 3);
          NDArray eps1 = LambdaSpace.eval(model, LambdaSpace.firstOrder(x, e, s, s1), s1).eps();
          NDArray eps2 = LambdaSpace.eval(model, thirdIntermediate(x, e.eps(), eps1, s, s1, s2), s2).eps();
          next = third(x, e.eps(), eps1, eps2, s, s1, s2, t, taylor);
        }
        step.keep(next);
        x.close();
        x = next;
        SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
      }
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
          history.push(step, e.eps(), s);
          int k = Math.min(order, i + 1);
          if (lowerOrderFinal && n < LOWER_ORDER_FINAL_BELOW) {
            k = Math.min(k, n - i);
          }
          NDArray next;
          if (k == 1 || t.isData()) {
            // DPM-Solver-1 (warm-up, lower-order final, or the last step to σ = 0).
            next = LambdaSpace.firstOrder(x, e, s, t);
          } else if (k == 2) {
            // Multistep DPM-Solver-2.
            next = multistep2(x, history.eps(0), history.eps(1), s, history.point(1), t, taylor);
          } else {
            // Multistep DPM-Solver-3.
            next = multistep3(x, history.eps(0), history.eps(1), history.eps(2), s, history.point(1),
                history.point(2), t);
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

  /**
   * Singlestep DPM-Solver-2 from s to t given ε at s and at s1 = t_λ(λ_s + r1 h): midpoint
   * {@code x_t = (α_t/α_s)x − σ_t φ1 ε_s − (σ_t φ1/(2 r1))(ε_1 − ε_s)}, Taylor with
   * {@code (σ_t/r1)(φ1/h − 1)} instead, φ1 = e^h − 1.
   */
  static NDArray second(NDArray x, NDArray epsS, NDArray eps1, Point s, Point s1, Point t, boolean taylor) {
    double h = t.lambda() - s.lambda();
    double r1 = (s1.lambda() - s.lambda()) / h;
    double phi1 = Math.expm1(h);
    double cD = taylor ? t.sigma() * (phi1 / h - 1) / r1 : 0.5 / r1 * t.sigma() * phi1;
    return x.mul(t.alpha() / s.alpha()).sub(epsS.mul(t.sigma() * phi1)).sub(eps1.sub(epsS).mul(cD));
  }

  /**
   * The second intermediate state of singlestep DPM-Solver-3:
   * {@code u_2 = (α_2/α_s)x − σ_2(e^{r2 h} − 1)ε_s − (r2/r1) σ_2 ((e^{r2 h} − 1)/(r2 h) − 1)(ε_1 − ε_s)}.
   */
  static NDArray thirdIntermediate(NDArray x, NDArray epsS, NDArray eps1, Point s, Point s1, Point s2) {
    double h2 = s2.lambda() - s.lambda();
    double r1 = (s1.lambda() - s.lambda()) / h2;
    double phi12 = Math.expm1(h2);
    double phi22 = phi12 / h2 - 1;
    return x.mul(s2.alpha() / s.alpha()).sub(epsS.mul(s2.sigma() * phi12))
        .sub(eps1.sub(epsS).mul(s2.sigma() * phi22 / r1));
  }

  /**
   * Singlestep DPM-Solver-3 from s to t given ε at s, s1, s2 (Lu et al. 2022 Alg. 2): midpoint
   * {@code x_t = (α_t/α_s)x − σ_t φ1 ε_s − (σ_t φ2/r2)(ε_2 − ε_s)}, φ2 = φ1/h − 1; Taylor with the
   * divided differences D1, D2 and φ3 = φ2/h − ½.
   */
  static NDArray third(NDArray x, NDArray epsS, NDArray eps1, NDArray eps2, Point s, Point s1, Point s2,
      Point t, boolean taylor) {
    double h = t.lambda() - s.lambda();
    double r1 = (s1.lambda() - s.lambda()) / h;
    double r2 = (s2.lambda() - s.lambda()) / h;
    double phi1 = Math.expm1(h);
    double phi2 = phi1 / h - 1;
    NDArray base = x.mul(t.alpha() / s.alpha()).sub(epsS.mul(t.sigma() * phi1));
    if (!taylor) {
      return base.sub(eps2.sub(epsS).mul(t.sigma() * phi2 / r2));
    }
    double phi3 = phi2 / h - 0.5;
    NDArray d10 = eps1.sub(epsS).div(r1);
    NDArray d11 = eps2.sub(epsS).div(r2);
    NDArray d1 = d10.mul(r2).sub(d11.mul(r1)).div(r2 - r1);
    NDArray d2 = d11.sub(d10).mul(2 / (r2 - r1));
    return base.sub(d1.mul(t.sigma() * phi2)).sub(d2.mul(t.sigma() * phi3));
  }

  /**
   * Multistep DPM-Solver-2 from s = p0 (newest) with the previous point p1: r0 = h0/h,
   * {@code D = (ε_0 − ε_1)/r0}; midpoint {@code x_t = (α_t/α_0)x − σ_t φ1 ε_0 − ½ σ_t φ1 D}, Taylor with
   * {@code σ_t (φ1/h − 1) D}.
   */
  static NDArray multistep2(NDArray x, NDArray eps0, NDArray eps1, Point p0, Point p1, Point t, boolean taylor) {
    double h = t.lambda() - p0.lambda();
    double r0 = (p0.lambda() - p1.lambda()) / h;
    double phi1 = Math.expm1(h);
    double cD = taylor ? t.sigma() * (phi1 / h - 1) : 0.5 * t.sigma() * phi1;
    return x.mul(t.alpha() / p0.alpha()).sub(eps0.mul(t.sigma() * phi1)).sub(eps0.sub(eps1).mul(cD / r0));
  }

  /**
   * Multistep DPM-Solver-3 from p0 with previous points p1, p2: divided differences
   * {@code D1 = D1_0 + r0/(r0+r1)(D1_0 − D1_1)}, {@code D2 = (D1_0 − D1_1)/(r0+r1)};
   * {@code x_t = (α_t/α_0)x − σ_t(φ1 ε_0 + φ2 D1 + φ3 D2)}. As in the reference (and diffusers), D2 ≈ h²ε''/2
   * while the Taylor term is h²φ3·ε'', so the local error is O(h³) and the method converges with order 2,
   * not 3 (see DpmSolverTest); reproduced as published.
   */
  static NDArray multistep3(NDArray x, NDArray eps0, NDArray eps1, NDArray eps2, Point p0, Point p1, Point p2,
      Point t) {
    double h = t.lambda() - p0.lambda();
    double r0 = (p0.lambda() - p1.lambda()) / h;
    double r1 = (p1.lambda() - p2.lambda()) / h;
    double phi1 = Math.expm1(h);
    double phi2 = phi1 / h - 1;
    double phi3 = phi2 / h - 0.5;
    NDArray d10 = eps0.sub(eps1).div(r0);
    NDArray d11 = eps1.sub(eps2).div(r1);
    NDArray d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
    NDArray d2 = d10.sub(d11).div(r0 + r1);
    return x.mul(t.alpha() / p0.alpha()).sub(eps0.mul(t.sigma() * phi1)).sub(d1.mul(t.sigma() * phi2))
        .sub(d2.mul(t.sigma() * phi3));
  }
}
