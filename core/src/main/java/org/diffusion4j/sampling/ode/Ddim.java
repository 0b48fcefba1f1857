package org.diffusion4j.sampling.ode;

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
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * DDIM, deterministic and η-stochastic (Song, Meng &amp; Ermon 2021, eq. 12 and 16,
 * with the corrected noise level), for any process:
 * {@code x_t = α_t x0 + sqrt(σ_t² − c²) ε + c z}, {@code c = η (σ_t/σ_s) sqrt(σ_s² − (α_s/α_t)² σ_t²)
 * = η σ_t sqrt(1 − e^{−2h})}, h = λ_t − λ_s, z ~ N(0, I) from the noise source.
 *
 * <p>η = 0 is the deterministic DDIM (= DPM-Solver-1 = exponential Euler; = Euler in x̂ and σ), η = 1 the
 * DDPM posterior step (Ho et al. 2020 eq. 7). Each step equals diffusers' {@code DDIMScheduler.step} without clipping
 * for the same (t, t_prev); the step to σ = 0 returns the x0-estimate (diffusers' {@code set_alpha_to_one}).
 * One NFE per step.
 *
 * @param eta η ≥ 0 (default 0); steps where c would exceed σ_t fail
 */
public record Ddim(double eta) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("ddim", true,
      "DDIM / DDIM-η (Song et al. 2021 eq. 12, 16); order 1, 1 NFE/step, stochastic when eta > 0",
      List.of(ParamSpec.number("eta", "0", "noise level η: 0 deterministic DDIM, 1 DDPM posterior; above 1 the noise can exceed σ_t", ParamRange.closed(0, 1))),
      p -> new Ddim(p.getDouble("eta")));

  public Ddim {
    if (!(eta >= 0 && eta <= 1)) {
      throw new IllegalArgumentException("ddim eta must lie in [0, 1] (above 1 the noise can exceed sigma_t), got " + eta);
    }
  }

  @Override
  public String id() {
    return "ddim";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
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
          // Last step: σ_next == 0.
          next = e.x0().mul(t.alpha());
        } else if (eta == 0) {
          // Deterministic DDIM.
          next = e.x0().mul(t.alpha()).add(e.eps().mul(t.sigma()));
        } else {
          // DDIM-η: marginal-preserving kernel with c = η σ_t sqrt(1 − e^{−2h}).
          double c = noiseLevel(s, t);
          if (c > t.sigma()) {
            throw new IllegalArgumentException("eta=" + eta + " is too large for the step from sigma "
                + s.sigmaRel() + " to " + t.sigmaRel() + ": the noise " + c + " exceeds sigma_t " + t.sigma());
          }
          NDArray z = noise.randn(x.getManager(), x.getShape(), x.getDataType());
          double dir = Math.sqrt((t.sigma() - c) * (t.sigma() + c));
          next = e.x0().mul(t.alpha()).add(e.eps().mul(dir)).add(z.mul(c));
        }
        step.keep(next);
        x.close();
        x = next;
        SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
      }
    }
    return x;
  }

  /**
   * {@code c = η (σ_t/σ_s) σ_{s|t}} with {@code σ_{s|t}² = σ_s² − (α_s/α_t)² σ_t² = −σ_s² expm1(−2h)}
   * (Song et al. 2021, eq. 16): η = 1 gives the DDPM posterior std.
   */
  double noiseLevel(Point s, Point t) {
    double h = t.lambda() - s.lambda();
    return eta * t.sigma() * Math.sqrt(-Math.expm1(-2 * h));
  }
}
