package org.diffusion4j.sampling.flowmap;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.FlowMap;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * Few-step sampling with a flow-map model ({@link FlowMap} convention): γ-sampling of Kim et al. 2024
 * (Consistency Trajectory Models, Algorithm 2), in x̂ and σ over the grid σ_0 &gt; … &gt; σ_N:
 * <pre>
 *   σ̃ = sqrt(1 − γ²) σ_{n+1};   x̂ ← G(x̂, σ_n, σ̃);   x̂ ← x̂ + γ σ_{n+1} z   (z ~ N(0, I), skipped at σ_{n+1} = 0)
 * </pre>
 * γ = 1 is the multistep consistency sampler of Song et al. 2023 (Algorithm 1: jump to the data, re-noise
 * to the next level) and the only choice for one-time consistency models, whose flow map exists only to
 * σ′ = 0; γ = 0 is deterministic flow-map stepping along the grid (two-time models: CTM, Mean Flows,
 * whose step is {@code x̂ + (σ′ − σ) h}). One model evaluation per step, so N steps cost N NFE; the
 * re-noising of Song et al. uses {@code sqrt(σ_{n+1}² − σ_min²)}, which differs from γσ_{n+1} by
 * O(σ_min²/σ_{n+1}) and is not used here.
 *
 * <p>Not in the sampler registry: ordinary denoisers are not flow maps; {@code d4j sample} picks it for
 * flow-map runs.
 *
 * @param gamma γ ∈ [0, 1] (1: consistency multistep)
 */
public record FlowMapSampler(double gamma) implements Sampler {

  public FlowMapSampler {
    if (!(gamma >= 0 && gamma <= 1)) {
      throw new IllegalArgumentException("flow-map sampler: gamma must lie in [0, 1], got " + gamma);
    }
  }

  /** Multistep consistency sampling (γ = 1). */
  public static FlowMapSampler consistency() {
    return new FlowMapSampler(1);
  }

  @Override
  public String id() {
    return "flowmap";
  }

  @Override
  public boolean stochastic() {
    return gamma > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
    long n = x.getShape().get(0);
    double keep = Math.sqrt((1 - gamma) * (1 + gamma));
    return SigmaSpace.march(grid, x, listener, (i, sigma, next, xHat, step) -> {
      double tilde = keep * next;
      NDArray mapped = FlowMap.apply(model, xHat, Denoiser.constant(n, sigma), Denoiser.constant(n, tilde),
          Conditioning.NONE);
      NDArray out = mapped;
      if (gamma > 0 && next > 0) {
        NDArray z = noise.randn(xHat.getManager(), xHat.getShape(), xHat.getDataType());
        out = mapped.add(z.mul(gamma * next));
      }
      return new SigmaSpace.Stepped(out, mapped);
    });
  }
}
