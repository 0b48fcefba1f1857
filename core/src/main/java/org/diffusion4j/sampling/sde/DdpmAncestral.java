package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * DDPM ancestral sampling (Ho et al. 2020 Alg. 2) with the general reverse kernel between consecutive
 * grid points s = t_i &gt; t = t_{i+1} (Kingma et al. 2021 App. A),
 * for any process:
 * {@code x_t = (α_{s|t}σ_t²/σ_s²)x_s + (α_tσ_{s|t}²/σ_s²)x0 + std·z}, {@code α_{s|t} = α_s/α_t},
 * {@code σ_{s|t}² = σ_s² − α_{s|t}²σ_t²} (absolute σ's), {@code x0 = D(x_s/α_s; σ_s)}.
 *
 * <p>{@code variance=small} (default) uses the posterior std {@code σ_{s|t}σ_t/σ_s} (Ho's β̃_t, diffusers
 * {@code fixed_small}); {@code large} uses {@code σ_{s|t}} (Ho's β_t, {@code fixed_large}). In relative
 * σ's, with {@code c = 1 − σ_t²/σ_s²}, the step is {@code x_t = (α_t/α_s)(1 − c)x_s + α_t c·x0 + std·z},
 * std = {@code α_tσ_t√c} (small) or {@code α_sσ_s√c} (large). The step into σ = 0 is noise-free and
 * returns the x0-estimate (as diffusers at t = 0). 1 NFE per step.
 *
 * <p>On the discrete {@code ddpm} process with {@code leading} or {@code trailing} grids this is
 * diffusers' {@code DDPMScheduler} ({@code fixed_small}/{@code fixed_large}, no clipping). diffusers steps
 * from timestep t to {@code t − T div N}, which is the next grid point for {@code leading} and for
 * {@code trailing} when N divides T, but not for {@code linspace} (e.g. T = 1000, N = 10: 999 → 899
 * while the next timestep is 888) nor trailing otherwise; we always step to the next grid point, which
 * is diffusers with custom timesteps ({@code set_timesteps(timesteps=…)}). diffusers' trailing grid also
 * adds 10⁻¹⁰-scaled noise on its last step (clamped variance 1e-20), which we omit.
 *
 * @param variance posterior std choice, {@code SMALL} (default) or {@code LARGE}
 */
public record DdpmAncestral(Variance variance) implements Sampler {
  /** The two fixed variances of Ho et al. 2020 §3.2. */
  public enum Variance {
    /** σ² = β̃_t: the exact posterior variance given x0. */
    SMALL,
    /** σ² = β_t: the forward transition's variance. */
    LARGE
  }

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("ddpm", true,
      "DDPM ancestral sampling with the general reverse kernel (Ho et al. 2020 Alg. 2; VDM eq. 4.4.8); 1 NFE/step",
      List.of(new ParamSpec("variance", "small",
          "posterior std: small (β̃_t, diffusers fixed_small) or large (β_t, fixed_large)")),
      p -> new DdpmAncestral(
          Variance.valueOf(p.getChoice("variance", "small", "large").toUpperCase(Locale.ROOT))));

  public DdpmAncestral {
    if (variance == null) {
      throw new IllegalArgumentException("variance must be SMALL or LARGE, got null");
    }
  }

  /** The default: small variance. */
  public DdpmAncestral() {
    this(Variance.SMALL);
  }

  @Override
  public String id() {
    return "ddpm";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0;
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      double sigmaNext = grid.sigma(i + 1);
      double alpha = grid.alpha(i);
      double alphaNext = grid.alpha(i + 1);
      try (StepScope step = new StepScope()) {
        NDArray denoised = ReverseSde.denoise(model, grid, i, x);
        NDArray next;
        if (sigmaNext == 0) {
          // Last step: σ_next == 0, the posterior collapses onto the x0-estimate.
          next = denoised.mul(alphaNext);
        } else {
          // Posterior mean (Ho et al. 2020 eq. 7), then the std of the chosen variance.
          double ratio = sigmaNext / sigma;
          double c = (sigma - sigmaNext) * (sigma + sigmaNext) / (sigma * sigma);
          double std = variance == Variance.SMALL ? alphaNext * sigmaNext * Math.sqrt(c)
              : alpha * sigma * Math.sqrt(c);
          NDArray z = noise.randn(x.getManager(), x.getShape(), x.getDataType());
          next = x.mul(alphaNext / alpha * ratio * ratio).add(denoised.mul(alphaNext * c)).add(z.mul(std));
        }
        step.keep(next);
        if (x != x0) {
          x.close();
        }
        x = next;
        SigmaSpace.notifyProcess(listener, grid, i, x, denoised);
      }
    }
    return x;
  }
}
