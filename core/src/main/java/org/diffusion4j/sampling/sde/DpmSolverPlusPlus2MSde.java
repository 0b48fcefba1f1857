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
 * DPM-Solver++(2M) SDE (k-diffusion {@code sample_dpmpp_2m_sde}; Lu et al. 2022b §5 SDE variant):
 * the exponential integrator of the reverse SDE with stochasticity η in
 * data prediction, multistep in λ = −log σ. With h = λ(σ_next) − λ(σ), D = D(x̂; σ), D' the previous
 * step's estimate and ρ = h/h_prev:
 *
 * <pre>
 *   x̂ ← (σ_next/σ)·e^{−ηh}·x̂ − expm1(−(1+η)h)·D
 *        + c·ρ·(D − D')                                     (from the 2nd step)
 *        + σ_next·sqrt(−expm1(−2ηh))·S_noise·ε               (η &gt; 0)
 *   c = −expm1(−(1+η)h)/2                    (midpoint)
 *   c = 1 + expm1(−(1+η)h)/((1+η)h)          (heun; the exact-linear variant of DPM-Solver++(2M))
 * </pre>
 *
 * The step to σ = 0 returns D. 1 NFE/step; η = 0 is deterministic DPM-Solver++(2M). Defaults:
 * {@code eta} = 1, {@code s-noise} = 1, {@code solver-type} = midpoint. k-diffusion draws ε from a
 * Brownian tree by default; here ε is the next draw of the {@link NoiseSource} (one normal per step,
 * exactly k-diffusion's step when fed the same ε).
 *
 * @param eta stochasticity η ≥ 0 (0: ODE; 1: the reverse SDE)
 * @param sNoise noise inflation S_noise ≥ 0
 * @param solverType {@code midpoint} or {@code heun}
 */
public record DpmSolverPlusPlus2MSde(double eta, double sNoise, String solverType) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-2m-sde", true,
      "DPM-Solver++(2M) SDE (Lu et al. 2022b; k-diffusion sample_dpmpp_2m_sde); 1 NFE/step",
      List.of(ParamSpec.number("eta", "1", "stochasticity η (0 = DPM-Solver++(2M) ODE)", Stochastic.ETA),
          ParamSpec.number("s-noise", "1", "noise inflation S_noise", Stochastic.S_NOISE),
          new ParamSpec("solver-type", "midpoint", "2nd-order correction: midpoint or heun")),
      p -> new DpmSolverPlusPlus2MSde(Stochastic.nonNegative(p, "dpmpp-2m-sde", "eta"),
          Stochastic.nonNegative(p, "dpmpp-2m-sde", "s-noise"), p.getChoice("solver-type", "midpoint", "heun")));

  /** Checks the parameters. */
  public DpmSolverPlusPlus2MSde {
    Stochastic.requireNonNegative("dpmpp-2m-sde", "eta", eta);
    Stochastic.requireSNoise("dpmpp-2m-sde", sNoise);
    if (!"midpoint".equals(solverType) && !"heun".equals(solverType)) {
      throw new IllegalArgumentException(
          "parameter solver-type of sampler 'dpmpp-2m-sde' must be one of midpoint, heun, got '" + solverType + "'");
    }
  }

  @Override
  public String id() {
    return "dpmpp-2m-sde";
  }

  @Override
  public boolean stochastic() {
    return eta > 0;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double[] hLast = {Double.NaN};
    try (SigmaSpace.Carried old = new SigmaSpace.Carried()) {
      return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
        NDArray denoised = model.denoise(x, sigma);
        if (sigmaNext == 0) {
          // Last step: σ_next == 0, the x0-estimate.
          return new SigmaSpace.Stepped(denoised.duplicate(), denoised);
        }
        // Exponential-integrator step with e^{−ηh} damping.
        double h = Math.log(sigma) - Math.log(sigmaNext);
        double etaH = eta * h;
        double phi1 = -Math.expm1(-h - etaH);
        NDArray next = x.mul(sigmaNext / sigma * Math.exp(-etaH)).add(denoised.mul(phi1));
        // 2nd-order multistep correction.
        if (old.get() != null) {
          double r = hLast[0] / h;
          double c = "heun".equals(solverType) ? phi1 / (-h - etaH) + 1 : 0.5 * phi1;
          next = next.add(denoised.sub(old.get()).mul(c * (1 / r)));
        }
        // Noise.
        if (eta > 0) {
          next = Stochastic.addNoise(next, noise, sigmaNext * Math.sqrt(-Math.expm1(-2 * etaH)) * sNoise);
        }
        hLast[0] = h;
        old.replace(denoised, step);
        return new SigmaSpace.Stepped(next, denoised);
      });
    }
  }
}
