package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * Exponential Heun in λ-time: the PF-ODE in half log-SNR λ is semilinear, {@code dx/dλ = L(λ) x + N(x, λ)} with
 * {@code L = d log α/dλ} and {@code N = −σ_λ ε̂(x, λ)}; with h = λ_t − λ_s and E = ∫L dλ = log(α_t/α_s), the
 * second-order exponential Runge–Kutta method (Cox &amp; Matthews 2002, ETD2RK; Hochbruck &amp; Ostermann 2010)
 * predicts {@code x̃ = e^E x + h c1(E) N(x, λ_s)} and corrects
 * {@code x_t = x̃ + h c2(E) (N(x̃, λ_t) − N(x, λ_s))}, {@code c1(E) = (e^E − 1)/E}, {@code c2(E) = (e^E − 1 − E)/E²}
 * (series near E = 0). Where L ≡ 0 (α ≡ 1: EDM, VE) it is Heun's method in λ. Unlike DPM-Solver-2, which
 * integrates the exact σ_λ e^{λ} weight, it freezes N's σ_λ factor, so it is second order but not exact for
 * a constant ε. 2 NFE per step; the step to σ = 0 (λ = ∞) is DDIM's, returning α·x0 (1 NFE).
 */
public record ExponentialHeun() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("exp-heun", false,
      "exponential Heun (ETD2RK) in λ on x' = L x − σ_λ ε̂; Heun in λ when α ≡ 1; order 2, 2 NFE/step",
      List.of(), p -> new ExponentialHeun());

  @Override
  public String id() {
    return "exp-heun";
  }

  /** c1(E) = (e^E − 1)/E, 1 at E = 0. */
  static double c1(double e) {
    return Math.abs(e) < 1e-5 ? 1 + e / 2 + e * e / 6 : Math.expm1(e) / e;
  }

  /** c2(E) = (e^E − 1 − E)/E², ½ at E = 0. */
  static double c2(double e) {
    return Math.abs(e) < 1e-4 ? 0.5 + e / 6 + e * e / 24 : (Math.expm1(e) - e) / (e * e);
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0.duplicate();
    for (int i = 0; i < grid.steps(); i++) {
      Point s = LambdaSpace.at(grid, i);
      Point t = LambdaSpace.at(grid, i + 1);
      try (StepScope step = new StepScope()) {
        Eval e = LambdaSpace.eval(model, x, s);
        NDArray next;
        if (t.isData()) {
          next = LambdaSpace.firstOrder(x, e, s, t);
        } else {
          double h = t.lambda() - s.lambda();
          double big = Math.log(t.alpha() / s.alpha());
          NDArray n0 = e.eps().mul(-s.sigma());
          NDArray pred = x.mul(Math.exp(big)).add(n0.mul(h * c1(big)));
          NDArray n1 = LambdaSpace.eval(model, pred, t).eps().mul(-t.sigma());
          next = pred.add(n1.sub(n0).mul(h * c2(big)));
        }
        step.keep(next);
        x.close();
        x = next;
        SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
      }
    }
    return x;
  }
}
