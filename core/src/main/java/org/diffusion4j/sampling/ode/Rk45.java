package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.diffusion4j.analytic.DormandPrince;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * Adaptive Dormand–Prince 5(4) on the PF-ODE {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ} (Dormand &amp; Prince 1980;
 * the RK45 the Score-SDE paper samples with), integrated adaptively across each
 * grid interval so that listeners still see every grid point.
 *
 * <p>Step control as scipy's {@code RK45}: error norm {@code ‖e‖ = RMS(e / (atol + rtol·max(|x̂|, |x̂_new|)))}
 * over the whole batch, accept when {@code ‖e‖ < 1}, {@code h ← h·clip(0.9‖e‖^{−1/5}, 0.2, 10)} (no growth
 * right after a rejection; a sub-step cut short at a grid point does not shrink the next proposal);
 * the first step is Hairer–Wanner's estimate (1 extra NFE) unless {@code h-init} is given; the last
 * stage is reused as the next first stage (FSAL). The step to σ = 0 is a plain Euler step (reusing the
 * last stage), since f is not evaluated at σ = 0. Use it as a reference-quality sampler whose cost
 * adapts to the requested tolerance; 6 NFE per attempted sub-step, +1 at the start (+1 more for the
 * automatic first step).
 *
 * @param rtol relative tolerance, default 1e-4, in [1e-13, 1]
 * @param atol absolute tolerance (units of x̂), default 1e-4, in [0, 1e3]
 * @param hInit first sub-step length |Δσ|; 0 (default) = automatic
 */
public record Rk45(double rtol, double atol, double hInit) implements Sampler {
  private static final double SAFETY = 0.9;
  private static final double MIN_FACTOR = 0.2;
  private static final double MAX_FACTOR = 10;
  private static final int MAX_SUBSTEPS = 100_000;

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("rk45", false,
      "Adaptive Dormand-Prince 5(4) on the PF-ODE in σ per grid interval (Dormand & Prince 1980; scipy RK45 step control); Euler on the last step to 0",
      List.of(ParamSpec.number("rtol", "1e-4", "relative tolerance (double rounding cannot meet less than 1e-13)", ParamRange.closed(1e-13, 1)),
          ParamSpec.number("atol", "1e-4", "absolute tolerance in units of x/s", ParamRange.closed(0, 1e3)),
          ParamSpec.number("h-init", "0", "first sub-step length in sigma, 0 = automatic (Hairer-Wanner)", ParamRange.closed(0, 1e6))),
      p -> new Rk45(p.getDouble("rtol"), p.getDouble("atol"), p.getDouble("h-init")));

  /** Checks the tolerances and the first step. */
  public Rk45 {
    if (!(rtol >= 1e-13 && rtol <= 1)) {
      throw new IllegalArgumentException("rk45 rtol must lie in [1e-13, 1], got " + rtol);
    }
    if (!(atol >= 0 && atol <= 1e3)) {
      throw new IllegalArgumentException("rk45 atol must lie in [0, 1000], got " + atol);
    }
    if (!(hInit >= 0) || Double.isInfinite(hInit)) {
      throw new IllegalArgumentException("rk45 h-init must be a finite number >= 0 (0 = automatic), got " + hInit);
    }
  }

  /** Defaults: rtol = atol = 1e-4, automatic first step. */
  public Rk45() {
    this(1e-4, 1e-4, 0);
  }

  @Override
  public String id() {
    return "rk45";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    Integrator in = new Integrator(model, SigmaSpace.enter(x0, grid), hInit);
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      double sigmaNext = grid.sigma(i + 1);
      try (StepScope step = new StepScope()) {
        NDArray denoised = in.takeDenoised(sigma);
        if (sigmaNext == 0) {
          // Last step: σ_next == 0, Euler.
          in.moveTo(step.keep(in.x.add(in.f.mul(sigmaNext - sigma))));
        } else {
          // Adaptive Dormand–Prince sub-steps across [σ, σ_next].
          in.integrate(sigma, sigmaNext);
        }
        SigmaSpace.notify(listener, grid, i, in.x, denoised);
        denoised.close();
      }
    }
    in.closeSlope();
    return SigmaSpace.leave(in.x, grid);
  }

  /** Run state of one {@link #run}: x̂, its slope f and x0-estimate (FSAL), and the proposed |h|. */
  private final class Integrator {
    private final Denoiser model;
    private NDArray x;
    private NDArray f;
    private NDArray denoised;
    private double hAbs;
    private boolean rejected;

    Integrator(Denoiser model, NDArray x, double hAbs) {
      this.model = model;
      this.x = x;
      this.hAbs = hAbs;
    }

    /**
     * Makes f and D at (x̂, σ) current, evaluating them unless the previous sub-step left them (FSAL),
     * and hands D over to the caller (who closes it).
     */
    NDArray takeDenoised(double sigma) {
      if (f == null) {
        try (StepScope scope = new StepScope()) {
          denoised = scope.keep(model.denoise(x, sigma));
          f = scope.keep(SigmaSpace.derivative(x, denoised, sigma));
        }
      }
      NDArray d = denoised;
      denoised = null;
      return d;
    }

    /** Replaces the state by {@code next} (owned), dropping the now stale slope. */
    void moveTo(NDArray next) {
      x.close();
      x = next;
      f.close();
      f = null;
    }

    void closeSlope() {
      if (f != null) {
        f.close();
      }
      if (denoised != null) {
        denoised.close();
      }
    }

    /** Integrates from σ to σ_next &gt; 0 (σ_next &lt; σ) with error control. */
    void integrate(double from, double to) {
      if (hAbs == 0) {
        hAbs = initialStep(from, to);
      }
      double s = from;
      int substeps = 0;
      while (s > to) {
        if (++substeps > MAX_SUBSTEPS) {
          throw new IllegalStateException("rk45 needed more than " + MAX_SUBSTEPS + " sub-steps in σ ∈ ["
              + to + ", " + from + "]; loosen rtol/atol (" + rtol + ", " + atol + ")");
        }
        if (hAbs < 10 * Math.ulp(s)) {
          throw new IllegalStateException("rk45 step size underflow at σ = " + s + " (|h| = " + hAbs
              + "); loosen rtol/atol (" + rtol + ", " + atol + ")");
        }
        double proposed = hAbs;
        boolean cut = s - proposed < to;
        double sNew = cut ? to : s - proposed;
        if (trial(s, sNew)) {
          s = sNew;
          if (cut) {
            hAbs = Math.max(hAbs, proposed); // cut at the grid point: keep the controller's step
          }
        }
      }
    }

    /** One Dormand–Prince attempt from σ = s to sNew &lt; s; returns whether it was accepted. */
    private boolean trial(double s, double sNew) {
      double h = sNew - s;
      try (StepScope scope = new StepScope()) {
        NDArray[] k = new NDArray[7];
        k[0] = f;
        NDArray xNew = null;
        NDArray dNew = null;
        for (int st = 1; st < 7; st++) {
          NDArray xi = x;
          for (int j = 0; j < st; j++) {
            if (DormandPrince.A[st][j] != 0) {
              xi = xi.add(k[j].mul(h * DormandPrince.A[st][j]));
            }
          }
          double sigmaSt = st == 6 ? sNew : s + DormandPrince.C[st] * h;
          NDArray dSt = model.denoise(xi, sigmaSt);
          k[st] = SigmaSpace.derivative(xi, dSt, sigmaSt);
          if (st == 6) {
            xNew = xi; // FSAL: the last stage point is the 5th-order solution.
            dNew = dSt;
          }
        }
        // Embedded error estimate, scipy's RMS norm.
        NDArray err = null;
        for (int j = 0; j < 7; j++) {
          double e = DormandPrince.B5[j] - DormandPrince.B4[j];
          if (e != 0) {
            NDArray t = k[j].mul(h * e);
            err = err == null ? t : err.add(t);
          }
        }
        NDArray scale = x.abs().maximum(xNew.abs()).mul(rtol).add(atol);
        double errNorm = rms(err.div(scale));
        if (!Double.isFinite(errNorm)) {
          throw new IllegalStateException("rk45 error estimate is " + errNorm + " at σ = " + s);
        }
        double hUsed = Math.abs(h);
        if (errNorm < 1) {
          double factor = errNorm == 0 ? MAX_FACTOR : Math.min(MAX_FACTOR, SAFETY * Math.pow(errNorm, -0.2));
          hAbs = hUsed * (rejected ? Math.min(1, factor) : factor);
          rejected = false;
          x.close();
          f.close();
          if (denoised != null) {
            denoised.close();
          }
          x = scope.keep(xNew);
          f = scope.keep(k[6]);
          denoised = scope.keep(dNew);
          return true;
        }
        hAbs = hUsed * Math.max(MIN_FACTOR, SAFETY * Math.pow(errNorm, -0.2));
        rejected = true;
        return false;
      }
    }

    /** Hairer–Wanner's first-step estimate (Solving ODEs I, §II.4), as scipy's select_initial_step. */
    private double initialStep(double from, double to) {
      double span = from - to;
      try (StepScope scope = new StepScope()) {
        NDArray scale = x.abs().mul(rtol).add(atol);
        double d0 = rms(x.div(scale));
        double d1 = rms(f.div(scale));
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.min(h0, span);
        NDArray x1 = x.sub(f.mul(h0));
        NDArray f1 = PfOde.slope(model, x1, from - h0);
        double d2 = rms(f1.sub(f).div(scale)) / h0;
        double h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3)
            : Math.pow(0.01 / Math.max(d1, d2), 1.0 / 5);
        return Math.min(Math.min(100 * h0, h1), span);
      }
    }
  }

  private static double rms(NDArray a) {
    return Math.sqrt(a.square().mean().toType(DataType.FLOAT64, false).getDouble());
  }
}
