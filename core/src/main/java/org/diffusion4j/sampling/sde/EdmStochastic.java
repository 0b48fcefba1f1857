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
import org.diffusion4j.schedule.Grid;

/**
 * EDM's stochastic sampler, Karras et al. 2022 Algorithm 2 (NVlabs/edm {@code edm_sampler}):
 * "churn" noise raises σ to σ̂, then a Heun step of the PF-ODE goes from σ̂ to σ_next:
 *
 * <pre>
 *   γ = min(S_churn/N, √2 − 1) if S_tmin ≤ σ ≤ S_tmax, else 0;   σ̂ = σ + γσ
 *   x̂ ← x̂ + sqrt(σ̂² − σ²)·S_noise·ε
 *   d = (x̂ − D(x̂; σ̂))/σ̂,   x' = x̂ + (σ_next − σ̂)·d
 *   unless σ_next = 0:  d' = (x' − D(x'; σ_next))/σ_next,   x' = x̂ + (σ_next − σ̂)·(d + d')/2
 * </pre>
 *
 * N = {@code grid.steps()}. With S_churn &gt; 0 one normal is drawn on every step, also where γ = 0, as
 * EDM's {@code randn_like} is, so replayed EDM noise lines up; with S_churn = 0 nothing is drawn and the
 * run equals {@code heun} bit for bit. 2 NFE/step, 1 on the last step to 0. The correction is skipped
 * when σ_next = 0 (EDM's "last step"; the same on grids ending at 0). Use with S_churn ≈ 40–80 to
 * correct errors of an imperfect denoiser. Defaults: {@code s-churn} = 0, {@code s-tmin} = 0,
 * {@code s-tmax} = Infinity, {@code s-noise} = 1 (EDM ImageNet-64: 80, 0.05, 50, 1.003).
 *
 * @param sChurn total churn S_churn ≥ 0
 * @param sTmin lowest σ that receives churn
 * @param sTmax highest σ that receives churn (≥ sTmin; may be infinite)
 * @param sNoise noise inflation S_noise ≥ 0
 */
public record EdmStochastic(double sChurn, double sTmin, double sTmax, double sNoise) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("edm", true,
      "EDM stochastic Heun with churn, Algorithm 2 (Karras et al. 2022; NVlabs/edm edm_sampler); 2 NFE/step",
      List.of(ParamSpec.number("s-churn", "0", "total churn S_churn (0 = deterministic heun)", Stochastic.ETA),
          ParamSpec.number("s-tmin", "0", "lowest σ receiving churn", Stochastic.ETA),
          ParamSpec.number("s-tmax", "inf", "highest σ receiving churn, ≥ s-tmin", new ParamRange(0, false, Double.POSITIVE_INFINITY, false, false)),
          ParamSpec.number("s-noise", "1", "noise inflation S_noise", Stochastic.S_NOISE)),
      p -> new EdmStochastic(Stochastic.nonNegative(p, "edm", "s-churn"),
          Stochastic.nonNegative(p, "edm", "s-tmin"), p.getDouble("s-tmax"),
          Stochastic.nonNegative(p, "edm", "s-noise")));

  /** Checks the parameters. */
  public EdmStochastic {
    Stochastic.requireNonNegative("edm", "s-churn", sChurn);
    Stochastic.requireNonNegative("edm", "s-tmin", sTmin);
    Stochastic.requireSNoise("edm", sNoise);
    if (!(sTmax >= sTmin)) {
      throw new IllegalArgumentException(
          "parameter s-tmax of sampler 'edm' must be >= s-tmin (" + sTmin + "), got " + sTmax);
    }
  }

  @Override
  public String id() {
    return "edm";
  }

  @Override
  public boolean stochastic() {
    return sChurn > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double gammaMax = Math.min(sChurn / grid.steps(), Math.sqrt(2) - 1);
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      // Increase noise temporarily.
      double gamma = sTmin <= sigma && sigma <= sTmax ? gammaMax : 0;
      double sigmaHat = sigma + gamma * sigma;
      NDArray xHat = x;
      if (sChurn > 0) {
        NDArray eps = noise.randn(x.getManager(), x.getShape(), x.getDataType());
        if (gamma > 0) {
          xHat = x.add(eps.mul(Math.sqrt(sigmaHat * sigmaHat - sigma * sigma) * sNoise));
        }
      }
      // Heun step from σ̂ (Euler on the last step to 0).
      return org.diffusion4j.sampling.ode.Heun.step(model, xHat, sigmaHat, sigmaNext);
    });
  }
}
