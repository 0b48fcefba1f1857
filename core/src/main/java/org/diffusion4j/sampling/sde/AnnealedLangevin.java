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
 * Annealed Langevin dynamics, the NCSN sampler (Song &amp; Ermon 2019, Algorithm 1):
 * Langevin at every nonzero σ of the grid, largest first, in the scaled state
 * x̂ = x/s (the VE view, the same for every process).
 *
 * <p>At level σ_ℓ, {@code steps-per-level} times: {@code x̂ ← x̂ + η_ℓ·score + sqrt(2η_ℓ)·z} with
 * {@code score = (D(x̂; σ_ℓ) − x̂)/σ_ℓ²} and {@code η_ℓ = ε·σ_ℓ²/σ_L²}, σ_L the smallest nonzero σ of
 * the grid. When the grid ends at σ = 0 and {@code final-denoise} is on, the last step is Song &amp;
 * Ermon 2020's denoising {@code x̂ ← x̂ + σ_L²·score = D(x̂; σ_L)} (1 NFE); otherwise the state stays
 * at σ_L. Grid step i reports the state after the Langevin run at σ_{i+1} (level σ_0 runs before
 * step 0). NFE = levels·steps-per-level (+1 for the final denoising).
 *
 * <p>ε = 2e-5 is NCSN's value for σ_L = 0.01 (ε/σ_L² = 0.2). Since {@code −∇²log p_σ ≼ I/σ²}, a
 * Langevin step at level ℓ contracts for any data when {@code η_ℓ/σ_ℓ² = ε/σ_L² < 2}, and at levels far
 * above the data's scale it diverges otherwise: {@link #run} refuses {@code ε ≥ 2σ_L²}, naming both, rather
 * than return NaN. With a small σ_min (EDM 0.002, flow 1e-3) lower ε to about 0.2σ_L².
 *
 * @param stepsPerLevel Langevin steps per noise level (10; NCSN: 100)
 * @param epsilon the step at the smallest level, ε (2e-5)
 * @param finalDenoise whether to finish with D(x̂; σ_L) when the grid ends at σ = 0 (true)
 */
public record AnnealedLangevin(int stepsPerLevel, double epsilon, boolean finalDenoise) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("ald", true,
      "Annealed Langevin dynamics, NCSN (Song & Ermon 2019 Alg. 1; final denoising of Song & Ermon 2020); K NFE/level",
      List.of(ParamSpec.number("steps-per-level", "10", "Langevin steps per noise level", ParamRange.ints(1, 10_000)),
          ParamSpec.number("epsilon", "2e-5", "step size at the smallest level", ParamRange.closed(1e-12, 1)),
          new ParamSpec("final-denoise", "true", "finish with D(x; sigma_L) when the grid ends at 0: true|false")),
      p -> new AnnealedLangevin(p.getInt("steps-per-level"), p.getDouble("epsilon"),
          p.getBoolean("final-denoise")));

  public AnnealedLangevin {
    if (stepsPerLevel < 1 || stepsPerLevel > 10_000) {
      throw new IllegalArgumentException("steps-per-level must lie in [1, 10000], got " + stepsPerLevel);
    }
    if (!(epsilon >= 1e-12 && epsilon <= 1)) {
      throw new IllegalArgumentException("epsilon must lie in [1e-12, 1], got " + epsilon);
    }
  }

  /** The defaults: 10 steps per level, ε = 2e-5, final denoising. */
  public AnnealedLangevin() {
    this(10, 2e-5, true);
  }

  @Override
  public String id() {
    return "ald";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double sigmaL = grid.sigma(grid.endsAtZero() ? grid.size() - 2 : grid.size() - 1);
    if (!(epsilon < 2 * sigmaL * sigmaL)) {
      throw new IllegalArgumentException("ald: epsilon " + epsilon + " is too large for the grid's smallest level "
          + "sigma_L = " + sigmaL + ": Langevin is stable only for epsilon < 2*sigma_L^2 = " + 2 * sigmaL * sigmaL
          + " (NCSN: 2e-5 with sigma_L = 0.01); lower epsilon or raise the grid's sigma-min");
    }
    NDArray x = langevin(model, SigmaSpace.enter(x0, grid), grid.sigma(0), sigmaL, noise);
    for (int i = 0; i < grid.steps(); i++) {
      double sigmaNext = grid.sigma(i + 1);
      if (sigmaNext > 0) {
        x = langevin(model, x, sigmaNext, sigmaL, noise);
      } else if (finalDenoise) {
        // Last step: σ_next == 0, final denoising x̂ + σ_L²·score = D(x̂; σ_L).
        try (StepScope step = new StepScope()) {
          NDArray next = step.keep(model.denoise(x, grid.sigma(i)).mul(1));
          x.close();
          x = next;
        }
      }
      SigmaSpace.notify(listener, grid, i, x, null);
    }
    return SigmaSpace.leave(x, grid);
  }

  /** Langevin at one level; closes {@code x} and returns the new state. */
  private NDArray langevin(Denoiser model, NDArray x, double sigma, double sigmaL, NoiseSource noise) {
    double eta = epsilon * (sigma / sigmaL) * (sigma / sigmaL);
    for (int k = 0; k < stepsPerLevel; k++) {
      try (StepScope step = new StepScope()) {
        // Langevin step: score = (D − x̂)/σ².
        NDArray drift = model.denoise(x, sigma).sub(x).mul(eta / (sigma * sigma));
        NDArray z = noise.randn(x.getManager(), x.getShape(), x.getDataType());
        NDArray next = step.keep(x.add(drift).add(z.mul(Math.sqrt(2 * eta))));
        x.close();
        x = next;
      }
    }
    return x;
  }
}
