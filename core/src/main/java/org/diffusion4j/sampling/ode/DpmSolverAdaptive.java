package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
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
 * Adaptive-step DPM-Solver-12 / DPM-Solver-23 (Lu et al. 2022 App. C; LuChengTHU's
 * {@code dpm_solver_adaptive}): each trial step of size h in λ computes a lower-order (DPM-Solver-1, or
 * singlestep DPM-Solver-2 with r1 = ⅓) and a higher-order (DPM-Solver-2 with r1 = ½, or DPM-Solver-3 with
 * r1 = ⅓, r2 = ⅔) solution sharing model calls; with {@code δ = max(atol, rtol·max(|x_low|, |x_prev|))}
 * and {@code E = max over the batch of RMS((x_high − x_low)/δ)}, the step is accepted if E ≤ 1, and
 * {@code h ← min(θ h E^{−1/k}, λ_end − λ_s)}.
 *
 * <p>It integrates from the grid's first point to its last point with σ &gt; 0, ignoring the points in
 * between, while |t − t_end| &gt; t-err (process time units); a trial that reaches λ_end lands exactly
 * on that grid point. If the grid ends at σ = 0, a final denoising step (1 NFE) returns α·x0. Unlike
 * the reference, ε at the current point is reused after a rejected trial (same numbers, fewer NFE).
 * The listener sees each accepted step, with {@code steps = 0} (not known in advance).
 *
 * @param order 2 (DPM-Solver-12) or 3 (DPM-Solver-23, default)
 * @param rtol relative tolerance (0.05)
 * @param atol absolute tolerance (0.0078, for data in [−1, 1])
 * @param theta safety factor (0.9)
 * @param tErr stopping tolerance in t (1e-5)
 * @param hInit first trial step in λ (0.05)
 * @param taylor Taylor variant of the high-order updates (default false: midpoint)
 * @param data the data-prediction updates of DPM-Solver++ (Lu et al. 2022b; {@code algorithm=dpmsolver++})
 */
public record DpmSolverAdaptive(int order, double rtol, double atol, double theta, double tErr, double hInit,
    boolean taylor, boolean data) implements Sampler {
  /**
   * rtol and atol: at least 1e-13, about 500 ulps of double — the difference of the two embedded
   * solutions cannot be resolved below that, so smaller tolerances are never met.
   */
  public static final ParamRange TOL_RANGE = ParamRange.closed(1e-13, 1e3);

  /** Trial steps allowed in one run before it stops with an error. */
  static final int MAX_TRIALS = 10_000;

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-solver-adaptive", false,
      "adaptive DPM-Solver-12/23 in λ (Lu et al. 2022 App. C); grid: first and last σ > 0 only",
      List.of(new ParamSpec("order", "3", "2 (DPM-Solver-12) or 3 (DPM-Solver-23)"),
          ParamSpec.number("rtol", "0.05", "relative tolerance (double rounding cannot meet less than "
              + "1e-13)", TOL_RANGE),
          ParamSpec.number("atol", "0.0078", "absolute tolerance", TOL_RANGE),
          ParamSpec.number("theta", "0.9", "step-size safety factor", ParamRange.closed(0.1, 1)),
          ParamSpec.number("t-err", "1e-5", "stop when |t - t_end| <= t-err", ParamRange.leftOpen(0, 1e-3)),
          ParamSpec.number("h-init", "0.05", "first trial step in λ", ParamRange.above(0)),
          new ParamSpec("variant", "midpoint", "midpoint (reference 'dpmsolver') or taylor"),
          new ParamSpec("algorithm", "dpmsolver", "dpmsolver (noise prediction) or dpmsolver++ (data prediction)")),
      p -> new DpmSolverAdaptive(p.getInt("order", 2, 3), p.getDouble("rtol"), p.getDouble("atol"),
          p.getDouble("theta"), p.getDouble("t-err"), p.getDouble("h-init"),
          p.getChoice("variant", "midpoint", "taylor").equals("taylor"),
          p.getChoice("algorithm", "dpmsolver", "dpmsolver++").equals("dpmsolver++")));

  /** The defaults of the reference. */
  public static DpmSolverAdaptive defaults() {
    return new DpmSolverAdaptive(3, 0.05, 0.0078, 0.9, 1e-5, 0.05, false, false);
  }

  /** The ε-form. */
  public DpmSolverAdaptive(int order, double rtol, double atol, double theta, double tErr, double hInit,
      boolean taylor) {
    this(order, rtol, atol, theta, tErr, hInit, taylor, false);
  }

  public DpmSolverAdaptive {
    if (order != 2 && order != 3) {
      throw new IllegalArgumentException("order must be 2 or 3, got " + order);
    }
    requireIn("rtol", rtol, TOL_RANGE);
    requireIn("atol", atol, TOL_RANGE);
    requireIn("theta", theta, ParamRange.closed(0.1, 1));
    requireIn("t-err", tErr, ParamRange.leftOpen(0, 1e-3));
    requireIn("h-init", hInit, ParamRange.above(0));
  }

  private static void requireIn(String name, double v, ParamRange range) {
    if (!range.contains(v)) {
      throw new IllegalArgumentException(
          "parameter " + name + " of sampler 'dpm-solver-adaptive' must be " + range + ", got " + v);
    }
  }

  @Override
  public String id() {
    return "dpm-solver-adaptive";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int last = grid.endsAtZero() ? grid.steps() - 1 : grid.steps();
    Point end = LambdaSpace.at(grid, last);
    Point s = LambdaSpace.at(grid, 0);
    NDArray x = x0.duplicate();
    NDArray xPrev = x0.duplicate();
    NDArray epsS = null;
    double h = hInit;
    int accepted = 0;
    int trials = 0;
    while (Math.abs(s.t() - end.t()) > tErr) {
      if (++trials > MAX_TRIALS) {
        throw new IllegalStateException("dpm-solver-adaptive took more than " + MAX_TRIALS + " trial steps "
            + "(at sigma " + s.sigmaRel() + "); loosen rtol/atol (" + rtol + ", " + atol + ")");
      }
      // Step-size floor: a step that no longer moves λ cannot make progress.
      if (h < end.lambda() - s.lambda() && !(h > 64 * Math.ulp(Math.max(Math.abs(s.lambda()), 1.0)))) {
        throw new IllegalStateException("dpm-solver-adaptive step size in lambda fell to " + h + " at sigma "
            + s.sigmaRel() + ": rtol/atol (" + rtol + ", " + atol + ") cannot be met in this precision; "
            + "loosen them (float32 cannot meet much below 1e-5)");
      }
      try (StepScope step = new StepScope()) {
        if (epsS == null) {
          epsS = step.keep(DpmUpdates.value(LambdaSpace.eval(model, x, s), data));
        }
        Point t = s.lambda() + h >= end.lambda() ? end : LambdaSpace.atLambda(grid.process(), s.lambda() + h);
        NDArray low;
        NDArray high;
        if (order == 2) {
          // DPM-Solver-1 and DPM-Solver-2 (r1 = 1/2).
          Point s1 = LambdaSpace.atLambda(grid.process(), s.lambda() + 0.5 * (t.lambda() - s.lambda()));
          low = DpmUpdates.first(x, epsS, s, t, data);
          NDArray m1 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.first(x, epsS, s, s1, data), s1), data);
          high = DpmUpdates.second(x, epsS, m1, s, s1, t, taylor, data);
        } else {
          // DPM-Solver-2 (r1 = 1/3) and DPM-Solver-3 (r1 = 1/3, r2 = 2/3).
          double dl = t.lambda() - s.lambda();
          Point s1 = LambdaSpace.atLambda(grid.process(), s.lambda() + dl / 3);
          Point s2 = LambdaSpace.atLambda(grid.process(), s.lambda() + 2 * dl / 3);
          NDArray m1 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.first(x, epsS, s, s1, data), s1), data);
          low = DpmUpdates.second(x, epsS, m1, s, s1, t, taylor, data);
          NDArray m2 = DpmUpdates.value(LambdaSpace.eval(model, DpmUpdates.thirdIntermediate(x, epsS, m1, s, s1, s2,
              data), s2), data);
          high = DpmUpdates.third(x, epsS, m1, m2, s, s1, s2, t, taylor, data);
        }
        // Error control.
        NDArray delta = low.abs().maximum(xPrev.abs()).mul(rtol).maximum(atol);
        NDArray r = high.sub(low).div(delta);
        double err = r.square().reshape(r.getShape().get(0), -1).mean(new int[] {1}).sqrt().max()
            .toType(DataType.FLOAT64, false).getDouble();
        if (Double.isNaN(err)) {
          throw new IllegalStateException("dpm-solver-adaptive: the error estimate is NaN at sigma "
              + s.sigmaRel() + " (the denoiser or the state is not finite)");
        }
        if (err <= 1) {
          x.close();
          xPrev.close();
          epsS.close();
          epsS = null;
          x = step.keep(high);
          xPrev = step.keep(low);
          LambdaSpace.notify(listener, accepted++, 0, s, t, x, null);
          s = t;
        }
        h = Math.min(theta * h * Math.pow(err, -1.0 / order), end.lambda() - s.lambda());
      }
    }
    if (epsS != null) {
      epsS.close();
    }
    xPrev.close();
    if (grid.endsAtZero()) {
      try (StepScope step = new StepScope()) {
        // Final denoising step to σ = 0.
        Point zero = LambdaSpace.at(grid, grid.steps());
        Eval e = LambdaSpace.eval(model, x, s);
        NDArray next = step.keep(DpmUpdates.first(x, e, s, zero, data));
        x.close();
        x = next;
        LambdaSpace.notify(listener, accepted, 0, s, zero, x, e.x0());
      }
    }
    return x;
  }
}
