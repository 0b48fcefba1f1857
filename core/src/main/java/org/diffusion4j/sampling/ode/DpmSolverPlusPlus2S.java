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
import org.diffusion4j.schedule.Grid;

/**
 * DPM-Solver++(2S): the single-step 2nd-order exponential integrator with data prediction (Lu et al.
 * 2022b, Algorithm 1), in σ-space as k-diffusion's
 * {@code sample_dpmpp_2s_ancestral} with η = 0.
 *
 * <p>With {@code λ = −log σ}, {@code h = λ_{i+1} − λ_i}, {@code σ_r = e^{−(λ_i + r h)}}:
 * {@code u = (σ_r/σ_i) x̂ − (e^{−rh} − 1) D_i}, {@code D_r = D(u; σ_r)},
 * {@code x̂_{i+1} = (σ_{i+1}/σ_i) x̂ − (e^{−h} − 1)[(1 − 1/(2r)) D_i + (1/(2r)) D_r]}; at r = ½ the
 * bracket is {@code D_r} alone (k-diffusion's form). The last step to σ = 0 is an Euler step (= D_i),
 * so N steps ending at 0 cost 2N − 1 NFE.
 *
 * @param r position of the intermediate point in λ, in (0, 1]; default ½ (the midpoint)
 */
public record DpmSolverPlusPlus2S(double r) implements Sampler {
  /**
   * The accepted r: the combined estimate {@code D_i + (D_r − D_i)/(2r)} multiplies the rounding
   * error of {@code D_r − D_i} by 1/(2r), so r below 1e-3 (amplification above 500, which in float32
   * is already 3e-5 relative) gives noise, and near 1e-300 overflow.
   */
  public static final ParamRange R_RANGE = ParamRange.closed(1e-3, 1);

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpmpp-2s", false,
      "DPM-Solver++(2S), single-step data prediction in λ = −log σ (Lu et al. 2022b Alg. 1; k-diffusion "
          + "sample_dpmpp_2s_ancestral, eta 0); order 2, 2 NFE/step, Euler on the last step to 0",
      List.of(ParamSpec.number("r", "0.5", "intermediate point r·h in λ", R_RANGE)),
      p -> new DpmSolverPlusPlus2S(p.getDouble("r")));

  public DpmSolverPlusPlus2S {
    checkR("dpmpp-2s", r);
  }

  /** Checks r against {@link #R_RANGE}. */
  public static double checkR(String sampler, double r) {
    if (!R_RANGE.contains(r)) {
      throw new IllegalArgumentException("parameter r of sampler '" + sampler + "' must be " + R_RANGE
          + " (1/(2r) amplifies rounding), got " + r);
    }
    return r;
  }

  @Override
  public String id() {
    return "dpmpp-2s";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double fac = 1 / (2 * r);
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      NDArray denoised = model.denoise(x, sigma);
      NDArray next;
      if (sigmaNext == 0) {
        // Last step: σ_next == 0, Euler.
        next = x.add(SigmaSpace.derivative(x, denoised, sigma).mul(-sigma));
      } else {
        // Intermediate point at λ_i + r·h, then the 2nd-order update.
        double h = grid.lambda(i + 1) - grid.lambda(i);
        double sigmaMid = Math.exp(-(grid.lambda(i) + r * h));
        NDArray u = x.mul(sigmaMid / sigma).sub(denoised.mul(Math.expm1(-r * h)));
        NDArray denoisedMid = model.denoise(u, sigmaMid);
        NDArray denoisedD = fac == 1 ? denoisedMid : denoised.mul(1 - fac).add(denoisedMid.mul(fac));
        next = x.mul(sigmaNext / sigma).sub(denoisedD.mul(Math.expm1(-h)));
      }
      return new SigmaSpace.Stepped(next, denoised);
    });
  }
}
