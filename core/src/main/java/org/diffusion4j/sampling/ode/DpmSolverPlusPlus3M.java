package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * DPM-Solver++(3M): the deterministic multistep 3rd-order exponential integrator with data prediction
 * (Lu et al. 2022b §4; SPEC SMP-14's 3rd-order sibling), in σ-space as k-diffusion's
 * {@code sample_dpmpp_3m_sde} with η = 0.
 *
 * <p>With {@code λ = −log σ}, {@code h = λ_{i+1} − λ_i}, history steps {@code h₁, h₂} and
 * {@code r₀ = h₁/h}, {@code r₁ = h₂/h}: {@code x̂ ← e^{−h} x̂ + (1 − e^{−h}) D_i}, then
 * {@code + φ₂ d₁ − φ₃ d₂} with {@code d₁₀ = (D_i − D_{i−1})/r₀}, {@code d₁₁ = (D_{i−1} − D_{i−2})/r₁},
 * {@code d₁ = d₁₀ + (d₁₀ − d₁₁) r₀/(r₀ + r₁)}, {@code d₂ = (d₁₀ − d₁₁)/(r₀ + r₁)},
 * {@code φ₂ = h·φ_2(−h) = (e^{−h} − 1)/h + 1}, {@code φ₃ = −h·φ_3(−h) = φ₂/h − ½}. Warm-up as
 * k-diffusion: the first step is first order, the second uses {@code + φ₂ (D_i − D_{i−1})/r₀}; the last
 * step to σ = 0 lands on {@code D_i}. 1 NFE per step. No parameters.
 */
public record DpmSolverPlusPlus3M() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-3m", false,
      "DPM-Solver++(3M), multistep data prediction in λ = −log σ (Lu et al. 2022b; k-diffusion "
          + "sample_dpmpp_3m_sde, eta 0); order 3, 1 NFE/step",
      List.of(), p -> new DpmSolverPlusPlus3M());

  @Override
  public String id() {
    return "dpmpp-3m";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = SigmaSpace.enter(x0, grid);
    NDArray denoised1 = null;
    NDArray denoised2 = null;
    double h1 = Double.NaN;
    double h2 = Double.NaN;
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      try (StepScope step = new StepScope()) {
        NDArray denoised = step.keep(model.denoise(x, sigma));
        NDArray next;
        double h = Double.NaN;
        if (grid.sigma(i + 1) == 0) {
          // Last step: σ_next == 0, the denoised estimate.
          next = denoised.duplicate();
        } else {
          // First-order (DDIM) part.
          h = grid.lambda(i + 1) - grid.lambda(i);
          next = x.mul(Math.exp(-h)).add(denoised.mul(-Math.expm1(-h)));
          double phi2 = h * Phi.phi(2, -h);
          if (denoised2 != null) {
            // 3rd-order correction.
            double r0 = h1 / h;
            double r1 = h2 / h;
            NDArray d10 = denoised.sub(denoised1).div(r0);
            NDArray d11 = denoised1.sub(denoised2).div(r1);
            NDArray d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
            NDArray d2 = d10.sub(d11).div(r0 + r1);
            double phi3 = -h * Phi.phi(3, -h);
            next = next.add(d1.mul(phi2)).sub(d2.mul(phi3));
          } else if (denoised1 != null) {
            // 2nd-order correction (warm-up).
            next = next.add(denoised.sub(denoised1).div(h1 / h).mul(phi2));
          }
        }
        step.keep(next);
        x.close();
        x = next;
        if (denoised2 != null) {
          denoised2.close();
        }
        denoised2 = denoised1;
        denoised1 = denoised;
        h2 = h1;
        h1 = h;
        SigmaSpace.notify(listener, grid, i, x, denoised);
      }
    }
    for (NDArray a : new NDArray[] {denoised1, denoised2}) {
      if (a != null) {
        a.close();
      }
    }
    return SigmaSpace.leave(x, grid);
  }
}
