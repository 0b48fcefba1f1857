package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * The classic 4th-order Runge–Kutta method in σ on the PF-ODE {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ}, one
 * RK4 step per grid interval).
 *
 * <p>With {@code h = σ_next − σ}: {@code k1 = f(x̂, σ)}, {@code k2 = f(x̂ + h/2·k1, σ + h/2)},
 * {@code k3 = f(x̂ + h/2·k2, σ + h/2)}, {@code k4 = f(x̂ + h·k3, σ_next)},
 * {@code x̂ += h/6·(k1 + 2k2 + 2k3 + k4)}. The step to σ = 0 is a plain Euler step (as in EDM's Heun),
 * since f is not evaluated at σ = 0. Order 4, 4 NFE/step (1 on the last step to 0). No parameters.
 */
public record Rk4() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("rk4", false,
      "Classic RK4 on the PF-ODE in σ); order 4, 4 NFE/step, Euler on the last step to 0",
      List.of(), p -> new Rk4());

  @Override
  public String id() {
    return "rk4";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return SigmaSpace.march(grid, x0, listener, (i, sigma, sigmaNext, x, step) -> {
      double h = sigmaNext - sigma;
      NDArray denoised = model.denoise(x, sigma);
      NDArray k1 = SigmaSpace.derivative(x, denoised, sigma);
      NDArray next;
      if (sigmaNext == 0) {
        // Last step: σ_next == 0, Euler.
        next = x.add(k1.mul(h));
      } else {
        // RK4 stages.
        double sigmaMid = sigma + h / 2;
        NDArray k2 = PfOde.slope(model, x.add(k1.mul(h / 2)), sigmaMid);
        NDArray k3 = PfOde.slope(model, x.add(k2.mul(h / 2)), sigmaMid);
        NDArray k4 = PfOde.slope(model, x.add(k3.mul(h)), sigmaNext);
        next = x.add(k1.add(k2.mul(2)).add(k3.mul(2)).add(k4).mul(h / 6));
      }
      return new SigmaSpace.Stepped(next, denoised);
    });
  }
}
