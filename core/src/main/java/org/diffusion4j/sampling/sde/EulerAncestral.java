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
 * Ancestral Euler in σ-space (k-diffusion {@code sample_euler_ancestral}; the DDPM ancestral step of
 * written on x̂ = x/s): an Euler step of the PF-ODE down to σ_down, then fresh noise of std
 * σ_up back up to σ_next ({@link AncestralStep}):
 *
 * <pre>
 *   d = (x̂ − D(x̂; σ))/σ,   x̂ ← x̂ + (σ_down − σ)·d + S_noise·σ_up·ε
 * </pre>
 *
 * No noise on the step to σ = 0. 1 NFE/step; first order. Use for quick, diverse samples; η = 0 is
 * plain {@code euler}. Defaults: {@code eta} = 1, {@code s-noise} = 1.
 *
 * @param eta noise fraction η ≥ 0 (0: Euler ODE; 1: ancestral)
 * @param sNoise noise inflation S_noise ≥ 0
 */
public record EulerAncestral(double eta, double sNoise) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("euler-ancestral", true,
      "Ancestral Euler in σ (k-diffusion sample_euler_ancestral; DDPM-style σ_down/σ_up split); order 1, 1 NFE/step",
      List.of(ParamSpec.number("eta", "1", "noise fraction η (0 = Euler ODE, 1 = ancestral)", Stochastic.ETA),
          ParamSpec.number("s-noise", "1", "noise inflation S_noise", Stochastic.S_NOISE)),
      p -> new EulerAncestral(Stochastic.nonNegative(p, "euler-ancestral", "eta"),
          Stochastic.nonNegative(p, "euler-ancestral", "s-noise")));

  /** Checks the parameters. */
  public EulerAncestral {
    Stochastic.requireNonNegative("euler-ancestral", "eta", eta);
    Stochastic.requireSNoise("euler-ancestral", sNoise);
  }

  @Override
  public String id() {
    return "euler-ancestral";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    // Euler step down to σ_down; the noise back up to σ_next is AncestralStep's.
    return AncestralStep.march(model, grid, x0, noise, listener, eta, sNoise,
        (x, denoised, sigma, down) -> x.add(SigmaSpace.derivative(x, denoised, sigma).mul(down - sigma)));
  }
}
