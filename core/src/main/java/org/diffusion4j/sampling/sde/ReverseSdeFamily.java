package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import java.util.List;
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
 * The family of reverse-time SDEs with tunable stochasticity γ(t) that all share the marginals p_t of the
 * forward process {@code dx = f x dt + g dw}:
 *
 * <pre>
 *   dx = [f(t)x − ½(g²(t) + γ²(t))∇log p_t(x)] dt + γ(t) dw̄,     γ(t) = η·g(t) where S_tmin ≤ σ(t) ≤ S_tmax, else 0
 * </pre>
 *
 * η = 0 is the probability-flow ODE (Song et al. 2021, eq. 13), η = 1 the reverse SDE (eq. 6); in between
 * the Langevin part {@code −½γ²∇log p dt + γ dw̄} leaves p_t invariant (Karras et al. 2022, eq. 6 with
 * β = η²σ̇/σ; the λ-family of Zhang &amp; Chen 2023, DEIS/gDDIM, with λ = η). The σ-interval confines the noise to
 * the middle noise levels as EDM's churn does (Karras et al. 2022, §4).
 *
 * <p>Two discretisations of the same SDE ({@code frame}):
 * <ul>
 *   <li>{@code sigma} (default): on x̂ = x/s with σ as time, where every process has f̂ = 0, ĝ² = 2σ and
 *       ∇log p = (D − x̂)/σ², so with d = (x̂ − D)/σ and h = σ_{i+1} − σ_i:
 *       {@code x̂ ← x̂ + (1 + η²)·h·d + η·sqrt(2σ_i|h|)·z} (Euler–Maruyama), or with {@code method=heun}
 *       the drift averaged with its value at the predicted point (stochastic Heun for additive noise, the
 *       same z in predictor and corrector). η = 0 is {@code euler} / {@code heun} bit for bit. The step
 *       into σ = 0 is the PF-ODE's Euler step (γ² = 2η²σ vanishes there), i.e. the x0-estimate.</li>
 *   <li>{@code time}: on the process's own x and t, Euler–Maruyama with Δt = t_i − t_{i+1}:
 *       {@code x − [f x − ½(g² + γ²)(αD − x)/σ_t²]Δt + γ·sqrt(Δt)·z}; η = 1 is {@code euler-maruyama} bit for
 *       bit, with its noise-free last step (the x0-estimate into σ = 0, the mean to σ_min &gt; 0).</li>
 * </ul>
 * On EDM's process (s = 1, σ = t) the two frames are the same scheme. With η &gt; 0 one normal is drawn on
 * every step but the last, also outside the σ-interval, so runs that differ only in the interval share
 * their noise. NFE: 1 per step (euler), 2 per step with 1 on a last step into 0 (heun).
 *
 * @param eta γ/g in [0, 1]
 * @param sTmin lowest σ at which γ is switched on
 * @param sTmax highest σ at which γ is switched on (≥ sTmin; may be infinite)
 * @param frame {@code sigma} or {@code time}
 * @param method {@code euler} or {@code heun} (heun in the σ frame only)
 */
public record ReverseSdeFamily(double eta, double sTmin, double sTmax, String frame, String method)
    implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("sde", true,
      "Reverse-SDE family dx = [fx − ½(g² + γ²)∇log p]dt + γ dw̄, γ = η·g: η = 0 the PF-ODE, η = 1 the reverse SDE "
          + "(Song et al. 2021 eqs. 6, 13; Karras et al. 2022 eq. 6); Euler–Maruyama or Heun drift, 1–2 NFE/step",
      List.of(ParamSpec.number("eta", "1", "γ/g: 0 = PF-ODE, 1 = reverse SDE", ParamRange.closed(0, 1)),
          ParamSpec.number("s-tmin", "0", "lowest σ with γ > 0", Stochastic.ETA),
          ParamSpec.number("s-tmax", "inf", "highest σ with γ > 0, ≥ s-tmin",
              new ParamRange(0, false, Double.POSITIVE_INFINITY, false, false)),
          new ParamSpec("frame", "sigma", "sigma (x̂ = x/s, σ as time) or time (process x and t)"),
          new ParamSpec("method", "euler", "euler (Euler–Maruyama) or heun (Heun drift; frame sigma)")),
      p -> new ReverseSdeFamily(p.getDouble("eta"), Stochastic.nonNegative(p, "sde", "s-tmin"), p.getDouble("s-tmax"),
          p.getChoice("frame", "sigma", "time"), p.getChoice("method", "euler", "heun")));

  /** Checks the parameters. */
  public ReverseSdeFamily {
    if (!(eta >= 0 && eta <= 1)) {
      throw new IllegalArgumentException("parameter eta of sampler 'sde' must be in [0, 1], got " + eta);
    }
    Stochastic.requireNonNegative("sde", "s-tmin", sTmin);
    if (!(sTmax >= sTmin)) {
      throw new IllegalArgumentException(
          "parameter s-tmax of sampler 'sde' must be >= s-tmin (" + sTmin + "), got " + sTmax);
    }
    if (!frame.equals("sigma") && !frame.equals("time")) {
      throw new IllegalArgumentException("parameter frame of sampler 'sde' must be one of sigma, time, got '"
          + frame + "'");
    }
    if (!method.equals("euler") && !method.equals("heun")) {
      throw new IllegalArgumentException("parameter method of sampler 'sde' must be one of euler, heun, got '"
          + method + "'");
    }
    if (method.equals("heun") && frame.equals("time")) {
      throw new IllegalArgumentException("sampler 'sde': method=heun runs in frame=sigma only (frame=time is "
          + "Euler–Maruyama on the process's t); use frame=sigma or method=euler");
    }
  }

  /** The full reverse SDE (η = 1) in the σ frame, Euler–Maruyama, noise at every σ. */
  public ReverseSdeFamily(double eta) {
    this(eta, 0, Double.POSITIVE_INFINITY, "sigma", "euler");
  }

  @Override
  public String id() {
    return "sde";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
  }

  /** γ²/g² on the step that starts at σ. */
  private double ratio(double sigma) {
    return sTmin <= sigma && sigma <= sTmax ? eta * eta : 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return frame.equals("time") ? runTime(model, grid, x0, noise, listener) : runSigma(model, grid, x0, noise, listener);
  }

  private NDArray runTime(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0;
    for (int i = 0; i < grid.steps(); i++) {
      try (StepScope step = new StepScope()) {
        NDArray denoised = ReverseSde.denoise(model, grid, i, x);
        NDArray next = step.keep(ReverseSde.predictor(grid, i, x, denoised, noise, ratio(grid.sigma(i)), eta > 0));
        if (x != x0) {
          x.close();
        }
        x = next;
        SigmaSpace.notifyProcess(listener, grid, i, x, denoised);
      }
    }
    return x;
  }

  private NDArray runSigma(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = SigmaSpace.enter(x0, grid);
    boolean heun = method.equals("heun");
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      double sigmaNext = grid.sigma(i + 1);
      boolean last = i == grid.steps() - 1;
      // Into σ = 0 the step is the PF-ODE's (γ² = 2η²σ → 0).
      double r = sigmaNext == 0 ? 0 : ratio(sigma);
      // Drift (1 + η²)·d per unit σ; (1 + 0)·h is h exactly, so η = 0 is the ODE step bit for bit.
      double dt = (1 + r) * (sigmaNext - sigma);
      try (StepScope step = new StepScope()) {
        NDArray z = null;
        if (eta > 0 && !last) {
          NDArray draw = noise.randn(x.getManager(), x.getShape(), x.getDataType());
          if (r > 0) {
            z = draw.mul(Math.sqrt(r * 2 * sigma * (sigma - sigmaNext)));
          }
        }
        NDArray denoised = model.denoise(x, sigma);
        NDArray d = SigmaSpace.derivative(x, denoised, sigma);
        NDArray next;
        if (!heun || sigmaNext == 0) {
          // Euler–Maruyama step (the last step to σ = 0 is Euler's).
          next = x.add(d.mul(dt));
          next = z == null ? next : next.add(z);
        } else {
          // Heun drift: predictor, then the average of both drifts, the same noise increment in both.
          NDArray x2 = x.add(d.mul(dt));
          x2 = z == null ? x2 : x2.add(z);
          NDArray d2 = SigmaSpace.derivative(x2, model.denoise(x2, sigmaNext), sigmaNext);
          next = x.add(d.add(d2).div(2).mul(dt));
          next = z == null ? next : next.add(z);
        }
        step.keep(next);
        x.close();
        x = next;
        SigmaSpace.notify(listener, grid, i, x, denoised);
      }
    }
    return SigmaSpace.leave(x, grid);
  }
}
