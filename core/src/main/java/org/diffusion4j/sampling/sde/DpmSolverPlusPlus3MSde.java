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
 * DPM-Solver++(3M) SDE (k-diffusion {@code sample_dpmpp_3m_sde}; Lu et al. 2022b multistep 3rd order
 * in data prediction): the exponential integrator of the reverse SDE with
 * stochasticity η, third-order multistep in λ = −log σ. With h = λ(σ_next) − λ(σ), ĥ = (1+η)h,
 * D₀ = D(x̂; σ) and D₁, D₂ the estimates (step sizes h₁, h₂) of the two previous steps:
 *
 * <pre>
 *   x̂ ← e^{−ĥ}·x̂ − expm1(−ĥ)·D₀ + φ₂·d₁ − φ₃·d₂ + σ_next·sqrt(−expm1(−2ηh))·S_noise·ε
 *   r₀ = h₁/h, r₁ = h₂/h,  d₁⁰ = (D₀ − D₁)/r₀,  d₁¹ = (D₁ − D₂)/r₁
 *   d₁ = d₁⁰ + (d₁⁰ − d₁¹)·r₀/(r₀ + r₁),  d₂ = (d₁⁰ − d₁¹)/(r₀ + r₁)
 *   φ₂ = expm1(−ĥ)/ĥ + 1,  φ₃ = φ₂/ĥ − 1/2
 * </pre>
 *
 * Warm-up: the first step is first order (no φ terms), the second uses φ₂·(D₀ − D₁)/r₀ only. The step
 * to σ = 0 returns D₀. As published (Lu et al.'s {@code multistep_dpm_solver_third_update}, copied by
 * k-diffusion and diffusers) d₂ ≈ h²D''/2 meets a weight made for h²D'', so the curvature term has half
 * its Taylor weight and the method is formally second order; it is
 * kept as published for parity. 1 NFE/step; η = 0 is deterministic DPM-Solver++(3M). Defaults: {@code eta} = 1,
 * {@code s-noise} = 1. k-diffusion draws ε from a Brownian tree by default; here ε is the next draw of
 * the {@link NoiseSource} (one normal per step, exactly k-diffusion's step when fed the same ε).
 *
 * @param eta stochasticity η ≥ 0 (0: ODE; 1: the reverse SDE)
 * @param sNoise noise inflation S_noise ≥ 0
 */
public record DpmSolverPlusPlus3MSde(double eta, double sNoise) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-3m-sde", true,
      "DPM-Solver++(3M) SDE (Lu et al. 2022b; k-diffusion sample_dpmpp_3m_sde); 1 NFE/step",
      List.of(ParamSpec.number("eta", "1", "stochasticity η (0 = DPM-Solver++(3M) ODE)", Stochastic.ETA),
          ParamSpec.number("s-noise", "1", "noise inflation S_noise", Stochastic.S_NOISE)),
      p -> new DpmSolverPlusPlus3MSde(Stochastic.nonNegative(p, "dpmpp-3m-sde", "eta"),
          Stochastic.nonNegative(p, "dpmpp-3m-sde", "s-noise")));

  /** Checks the parameters. */
  public DpmSolverPlusPlus3MSde {
    Stochastic.requireNonNegative("dpmpp-3m-sde", "eta", eta);
    Stochastic.requireSNoise("dpmpp-3m-sde", sNoise);
  }

  @Override
  public String id() {
    return "dpmpp-3m-sde";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double[] hs = {Double.NaN, Double.NaN}; // h of the last two steps
    try (SigmaSpace.Carried denoised1 = new SigmaSpace.Carried(); SigmaSpace.Carried denoised2 = new SigmaSpace.Carried()) {
      return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
        NDArray denoised = model.denoise(x, sigma);
        if (sigmaNext == 0) {
          // Last step: σ_next == 0, the x0-estimate.
          return new SigmaSpace.Stepped(denoised.duplicate(), denoised);
        }
        // Exponential-integrator step with e^{−ηh} damping.
        double h = Math.log(sigma) - Math.log(sigmaNext);
        double hEta = h * (eta + 1);
        NDArray next = x.mul(Math.exp(-hEta)).add(denoised.mul(-Math.expm1(-hEta)));
        double phi2 = Math.expm1(-hEta) / hEta + 1;
        if (denoised2.get() != null) {
          // 3rd-order multistep correction.
          double r0 = hs[0] / h;
          double r1 = hs[1] / h;
          NDArray d10 = denoised.sub(denoised1.get()).div(r0);
          NDArray d11 = denoised1.get().sub(denoised2.get()).div(r1);
          NDArray d1 = d10.add(d10.sub(d11).mul(r0).div(r0 + r1));
          NDArray d2 = d10.sub(d11).div(r0 + r1);
          double phi3 = phi2 / hEta - 0.5;
          next = next.add(d1.mul(phi2)).sub(d2.mul(phi3));
        } else if (denoised1.get() != null) {
          // Warm-up: 2nd-order correction.
          next = next.add(denoised.sub(denoised1.get()).div(hs[0] / h).mul(phi2));
        }
        // Noise.
        if (eta > 0) {
          next = Stochastic.addNoise(next, noise, sigmaNext * Math.sqrt(-Math.expm1(-2 * h * eta)) * sNoise);
        }
        hs[1] = hs[0];
        hs[0] = h;
        denoised1.passTo(denoised2);
        denoised1.replace(denoised, step);
        return new SigmaSpace.Stepped(next, denoised);
      });
    }
  }
}
