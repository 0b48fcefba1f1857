package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * PNDM, pseudo numerical methods for diffusion models (Liu, Ren, Lin &amp; Zhao 2022): a classical
 * multistep or Runge–Kutta combination of the noise estimates ε, carried from one noise level to the next by
 * DDIM's transfer φ (their eq. 9; in x̂ and σ: {@code φ(x̂, ε, σ_a, σ_b) = x̂ + (σ_b − σ_a) ε}).
 *
 * <p>Pseudo linear multistep (PLMS, their eq. 12): {@code ε' = (55 ε_i − 59 ε_{i−1} + 37 ε_{i−2} − 9 ε_{i−3})/24},
 * {@code x_{i+1} = φ(x_i, ε', σ_i, σ_{i+1})} — the constant-step fourth-order Adams–Bashforth weights, of full order
 * on grids uniform in the process time (PNDM's uniform timesteps). The first steps need a warm-up:
 * <ul>
 *   <li>{@code warmup=prk} (the paper's F-PNDM; diffusers' {@code PNDMScheduler} default): three pseudo
 *       Runge–Kutta steps (their eq. 13), the classical RK4 stages ε₁ … ε₄ at σ_i, at the midpoint of the process
 *       time (twice) and at σ_{i+1}, each stage transferred from x_i by φ; 4 NFE per step, then PLMS;</li>
 *   <li>{@code warmup=heun} (diffusers' {@code skip_prk_steps=True}, Stable Diffusion's configs): one pseudo
 *       improved Euler step {@code ε' = (ε(x_0) + ε(φ(x_0, ε(x_0))))/2} (2 NFE), then PLMS of orders 2, 3, 4 as
 *       the history of ε's grows (the second stage's ε is not kept).</li>
 * </ul>
 * The sampler runs on x in process coordinates ({@code x = s·x̂}) so that a {@linkplain Call plan} can reproduce
 * diffusers' timestep arithmetic exactly, including its relabelling of a state at the next timestep when
 * "t − N/steps" is not the next timestep. NFE: prk {@code 4·min(3, N−1) + N − min(3, N−1)}; heun N + 1 (1 for
 * N = 1).
 *
 * @param rungeKutta the pseudo Runge–Kutta warm-up ({@code warmup=prk}); false: the improved Euler one
 */
public record Pndm(boolean rungeKutta) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("pndm", false,
      "PNDM, pseudo linear multistep on ε with DDIM's transfer (Liu et al. 2022; diffusers PNDMScheduler); "
          + "1 NFE/step after the warm-up",
      List.of(new ParamSpec("warmup", "prk", "prk: 3 pseudo Runge-Kutta steps of 4 NFE (F-PNDM, diffusers' "
          + "default) or heun: one pseudo improved Euler step of 2 NFE, then orders 2, 3, 4 (skip_prk_steps)")),
      p -> new Pndm(p.getChoice("warmup", "prk", "heun").equals("prk")));

  /** How a model call's ε enters the step that follows it. */
  public enum Kind {
    /** First call without Runge–Kutta warm-up: ε' = ε; the state and ε are kept for {@link #HEUN}. */
    START,
    /** Second call: ε' = (ε + ε_start)/2, transferred from the kept state; ε is not added to the history. */
    HEUN,
    /** ε joins the history (at most 4); ε' = the Adams–Bashforth combination of the history's length. */
    PLMS,
    /** Runge–Kutta stage 1: ε joins the history; the state is kept; ε' = ε. */
    RK1,
    /** Runge–Kutta stage 2: ε' = ε, from the kept state. */
    RK2,
    /** Runge–Kutta stage 3: ε' = ε, from the kept state. */
    RK3,
    /** Runge–Kutta stage 4: ε' = (ε₁ + 2ε₂ + 2ε₃ + ε₄)/6, from the kept state. */
    RK4
  }

  /**
   * A noise level of a plan.
   *
   * @param sigma σ ≥ 0 (0 is data)
   * @param s the process scale s(σ) (1 at σ = 0)
   */
  public record Point(double sigma, double s) {
    /** Checks the values. */
    public Point {
      if (!(sigma >= 0 && sigma < Double.POSITIVE_INFINITY && s > 0 && s < Double.POSITIVE_INFINITY)) {
        throw new IllegalArgumentException("a PNDM point needs finite sigma >= 0 and s > 0, got sigma " + sigma
            + ", s " + s);
      }
    }

    /** Grid point {@code i}. */
    public static Point of(Grid grid, int i) {
      return new Point(grid.sigma(i), grid.s(i));
    }
  }

  /**
   * One model call and the transfer that follows it: ε = ε(x, σ_label) of the current state x, then
   * {@code x ← φ(base, ε', from, to)} with base the current state or the kept one ({@link Kind}).
   *
   * @param kind how ε enters ε'
   * @param label where the model is called (σ &gt; 0; the current state is read as x at this level)
   * @param from the level the base state is transferred from
   * @param to the level it is transferred to
   * @param step the grid step this call completes (the listener is told), or −1
   */
  public record Call(Kind kind, Point label, Point from, Point to, int step) {
    /** Checks the model's noise level. */
    public Call {
      if (!(label.sigma() > 0)) {
        throw new IllegalArgumentException("a PNDM model call needs sigma > 0, got " + label.sigma());
      }
    }
  }

  @Override
  public String id() {
    return "pndm";
  }

  /** The plan of this sampler on {@code grid}: midpoints of the Runge–Kutta steps halve the process time. */
  public List<Call> plan(Grid grid) {
    int n = grid.steps();
    List<Call> calls = new ArrayList<>();
    int first;
    if (rungeKutta) {
      first = Math.min(3, n - 1);
      NoiseProcess p = grid.process();
      for (int i = 0; i < first; i++) {
        double tm = 0.5 * (grid.t(i) + grid.t(i + 1));
        Point a = Point.of(grid, i);
        Point m = new Point(p.sigma(tm), p.s(tm));
        Point b = Point.of(grid, i + 1);
        calls.add(new Call(Kind.RK1, a, a, m, -1));
        calls.add(new Call(Kind.RK2, m, a, m, -1));
        calls.add(new Call(Kind.RK3, m, a, b, -1));
        calls.add(new Call(Kind.RK4, b, a, b, i));
      }
    } else {
      Point a = Point.of(grid, 0);
      Point b = Point.of(grid, 1);
      calls.add(new Call(Kind.START, a, a, b, n == 1 ? 0 : -1));
      if (n == 1) {
        return calls;
      }
      calls.add(new Call(Kind.HEUN, b, a, b, 0));
      first = 1;
    }
    for (int i = first; i < n; i++) {
      calls.add(new Call(Kind.PLMS, Point.of(grid, i), Point.of(grid, i), Point.of(grid, i + 1), i));
    }
    return calls;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return run(model, grid, x0, listener, plan(grid), false);
  }

  /**
   * Runs a plan from {@code x0} (process coordinates at the first call's label; not closed). The plan's
   * {@link Call#step} indices refer to {@code grid}, which the listener is told about.
   *
   * @param velocity combine the v-predictions {@code v = s(ε − σ D)} of the calls instead of their ε's, and turn
   *     the combination into ε at the transfer's start with the state transferred, {@code ε' = s_from (v' + σ_from
   *     x_base)}: what diffusers' {@code PNDMScheduler} does with {@code prediction_type="v_prediction"} (the
   *     weights sum to 1, so this equals the ε-combination only when every call sees the base state at its level)
   */
  public static NDArray run(Denoiser model, Grid grid, NDArray x0, StepListener listener, List<Call> plan,
      boolean velocity) {
    NDArray x = x0.duplicate();
    NDArray base = null;
    NDArray acc = null;
    Deque<NDArray> history = new ArrayDeque<>(); // newest first
    try {
      for (Call c : plan) {
        try (StepScope scope = new StepScope()) {
          NDArray xHat = x.div(c.label().s());
          NDArray denoised = model.denoise(xHat, c.label().sigma());
          NDArray eps = xHat.sub(denoised).div(c.label().sigma());
          if (velocity) {
            eps = eps.sub(denoised.mul(c.label().sigma())).mul(c.label().s());
          }
          NDArray combined;
          NDArray src = x;
          NDArray newBase = base;
          switch (c.kind()) {
            case START -> {
              push(history, scope.keep(eps));
              combined = eps;
              newBase = x;
            }
            case HEUN -> {
              if (base == null || history.isEmpty()) {
                throw new IllegalArgumentException("a PNDM HEUN call needs a START call before it");
              }
              combined = eps.add(history.peekLast()).div(2);
              src = base;
              newBase = null;
            }
            case PLMS -> {
              push(history, scope.keep(eps));
              combined = adamsBashforth(history);
            }
            case RK1 -> {
              push(history, scope.keep(eps));
              combined = eps;
              acc = replace(acc, scope.keep(eps.div(6)));
              newBase = x;
            }
            case RK2, RK3 -> {
              if (base == null || acc == null) {
                throw new IllegalArgumentException("a PNDM " + c.kind() + " call needs an RK1 call before it");
              }
              combined = eps;
              acc = replace(acc, scope.keep(acc.add(eps.div(3))));
              src = base;
            }
            default -> {
              if (base == null || acc == null) {
                throw new IllegalArgumentException("a PNDM RK4 call needs an RK1 call before it");
              }
              combined = acc.add(eps.div(6));
              acc = replace(acc, null);
              src = base;
              newBase = null;
            }
          }
          double sf = c.from().s();
          double st = c.to().s();
          if (velocity) {
            combined = combined.add(src.mul(c.from().sigma())).mul(sf);
          }
          NDArray next = src.mul(st / sf).add(combined.mul(st * (c.to().sigma() - c.from().sigma())));
          scope.keep(next);
          NDArray oldX = x;
          NDArray oldBase = base;
          x = next;
          base = newBase;
          Set<NDArray> live = Collections.newSetFromMap(new IdentityHashMap<>());
          live.add(x);
          if (base != null) {
            live.add(base);
          }
          if (!live.contains(oldX)) {
            oldX.close();
          }
          if (oldBase != null && oldBase != oldX && !live.contains(oldBase)) {
            oldBase.close();
          }
          if (c.step() >= 0) {
            SigmaSpace.notifyProcess(listener, grid, c.step(), x, denoised);
          }
        }
      }
    } finally {
      history.forEach(NDArray::close);
      if (acc != null) {
        acc.close();
      }
      if (base != null && base != x) {
        base.close();
      }
    }
    return x;
  }

  private static NDArray replace(NDArray old, NDArray next) {
    if (old != null) {
      old.close();
    }
    return next;
  }

  private static void push(Deque<NDArray> history, NDArray eps) {
    history.addFirst(eps);
    if (history.size() > 4) {
      history.removeLast().close();
    }
  }

  /** The constant-step Adams–Bashforth weights of orders 1–4, newest first (Liu et al. 2022 eq. 12). */
  static final double[][] AB = {{1}, {3 / 2.0, -1 / 2.0}, {23 / 12.0, -16 / 12.0, 5 / 12.0},
      {55 / 24.0, -59 / 24.0, 37 / 24.0, -9 / 24.0}};

  private static NDArray adamsBashforth(Deque<NDArray> history) {
    double[] w = AB[history.size() - 1];
    NDArray sum = null;
    int j = 0;
    for (NDArray e : history) {
      NDArray term = e.mul(w[j++]);
      sum = sum == null ? term : sum.add(term);
    }
    return sum;
  }
}
