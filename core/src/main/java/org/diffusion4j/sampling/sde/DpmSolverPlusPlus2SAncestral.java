package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * Ancestral DPM-Solver++(2S) in σ-space (k-diffusion {@code sample_dpmpp_2s_ancestral}; Lu et al. 2022b
 * Algorithm 1 /, with the ancestral split of {@link AncestralStep}): a
 * data-prediction midpoint step in λ = −log σ from σ down to σ_down, then noise σ_up·ε up to σ_next:
 *
 * <pre>
 *   h = λ(σ_down) − λ(σ),   λ_s = λ(σ) + h/2
 *   u = (σ_s/σ)·x̂ − expm1(−h/2)·D(x̂; σ)
 *   x̂ ← (σ_down/σ)·x̂ − expm1(−h)·D(u; σ_s) + S_noise·σ_up·ε
 * </pre>
 *
 * When σ_down = 0 (the last step to 0) the step is plain Euler and no noise is added. 2 NFE/step (1 on
 * the last); η = 0 is deterministic DPM-Solver++(2S). Defaults: {@code eta} = 1, {@code s-noise} = 1.
 *
 * @param eta noise fraction η ≥ 0
 * @param sNoise noise inflation S_noise ≥ 0
 */
public record DpmSolverPlusPlus2SAncestral(double eta, double sNoise) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-2s-ancestral", true,
      "Ancestral DPM-Solver++(2S) in σ (Lu et al. 2022b; k-diffusion sample_dpmpp_2s_ancestral); 2 NFE/step",
      List.of(ParamSpec.number("eta", "1", "noise fraction η (0 = deterministic DPM-Solver++(2S))", Stochastic.ETA),
          ParamSpec.number("s-noise", "1", "noise inflation S_noise", Stochastic.S_NOISE)),
      p -> new DpmSolverPlusPlus2SAncestral(Stochastic.nonNegative(p, "dpmpp-2s-ancestral", "eta"),
          Stochastic.nonNegative(p, "dpmpp-2s-ancestral", "s-noise")));

  /** Checks the parameters. */
  public DpmSolverPlusPlus2SAncestral {
    Stochastic.requireNonNegative("dpmpp-2s-ancestral", "eta", eta);
    Stochastic.requireSNoise("dpmpp-2s-ancestral", sNoise);
  }

  @Override
  public String id() {
    return "dpmpp-2s-ancestral";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return AncestralStep.march(model, grid, x0, noise, listener, eta, sNoise, (x, denoised, sigma, down) -> {
      if (down == 0) {
        // Last step: σ_down == 0, Euler.
        return x.add(SigmaSpace.derivative(x, denoised, sigma).mul(-sigma));
      }
      // DPM-Solver++(2S) to σ_down, midpoint in λ.
      double t = -Math.log(sigma);
      double tNext = -Math.log(down);
      double h = tNext - t;
      double s = t + 0.5 * h;
      NDArray u = x.mul(Math.exp(-s) / Math.exp(-t)).sub(denoised.mul(Math.expm1(-h * 0.5)));
      NDArray denoised2 = model.denoise(u, Math.exp(-s));
      return x.mul(Math.exp(-tNext) / Math.exp(-t)).sub(denoised2.mul(Math.expm1(-h)));
    });
  }
}
