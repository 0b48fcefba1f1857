package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayDeque;
import java.util.Deque;
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
 * Linear multistep (Adams–Bashforth on a variable grid) on the PF-ODE in σ: k-diffusion
 * {@code sample_lms} (Crowson; after PLMS, Liu et al. 2022).
 *
 * <p>{@code x̂_{i+1} = x̂_i + Σ_j c_{ij} d_{i−j}}, {@code j < q = min(i + 1, order)}, with
 * {@code c_{ij} = ∫_{σ_i}^{σ_{i+1}} ℓ_j(σ) dσ} and ℓ_j the Lagrange basis polynomial through
 * σ_i, …, σ_{i−q+1} that is 1 at σ_{i−j}. The first {@code order − 1} steps warm up with orders
 * 1, 2, … as k-diffusion does. Coefficients are integrated in closed form (k-diffusion uses numerical
 * quadrature; the two agree to round-off). The denoiser is only called at grid points, so the step to
 * σ = 0 needs no special branch. Order {@code order} (default 4), 1 NFE/step.
 *
 * @param order the multistep order, 1 ≤ order ≤ 4 (1 is Euler)
 */
public record Lms(int order) implements Sampler {
  /** Largest supported order. */
  public static final int MAX_ORDER = 4;

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("lms", false,
      "Linear multistep on the PF-ODE in σ (k-diffusion sample_lms); order 1..4, 1 NFE/step",
      List.of(ParamSpec.number("order", "4", "multistep order (the first steps warm up with lower ones)", ParamRange.ints(1, MAX_ORDER))),
      p -> new Lms(p.getInt("order")));

  /** Checks the order. */
  public Lms {
    if (order < 1 || order > MAX_ORDER) {
      throw new IllegalArgumentException("lms order must lie in [1, " + MAX_ORDER + "], got " + order);
    }
  }

  @Override
  public String id() {
    return "lms";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    double[] sigmas = grid.sigmas();
    NDArray x = SigmaSpace.enter(x0, grid);
    Deque<NDArray> ds = new ArrayDeque<>(); // newest first
    for (int i = 0; i < grid.steps(); i++) {
      try (StepScope step = new StepScope()) {
        NDArray denoised = model.denoise(x, sigmas[i]);
        ds.addFirst(step.keep(SigmaSpace.derivative(x, denoised, sigmas[i])));
        if (ds.size() > order) {
          ds.removeLast().close();
        }
        // Lower order on the first steps.
        double[] c = coefficients(sigmas, i, Math.min(i + 1, order));
        NDArray sum = null;
        int j = 0;
        for (NDArray d : ds) {
          NDArray term = d.mul(c[j++]);
          sum = sum == null ? term : sum.add(term);
        }
        NDArray next = step.keep(x.add(sum));
        x.close();
        x = next;
        SigmaSpace.notify(listener, grid, i, x, denoised);
      }
    }
    ds.forEach(NDArray::close);
    return SigmaSpace.leave(x, grid);
  }

  /**
   * The multistep weights {@code c_j = ∫_{σ_i}^{σ_{i+1}} ℓ_j}, j &lt; q, for the derivatives at
   * σ_i, σ_{i−1}, …, σ_{i−q+1} (k-diffusion {@code linear_multistep_coeff}). Each ℓ_j is expanded in
   * {@code u = σ − σ_i} and its monomials integrated exactly over [0, σ_{i+1} − σ_i].
   */
  static double[] coefficients(double[] sigmas, int i, int q) {
    if (q < 1 || q - 1 > i || i + 1 >= sigmas.length) {
      throw new IllegalArgumentException("lms order " + q + " is not available at step " + i
          + " of a grid with " + (sigmas.length - 1) + " steps");
    }
    double h = sigmas[i + 1] - sigmas[i];
    double[] u = new double[q];
    for (int k = 0; k < q; k++) {
      u[k] = sigmas[i - k] - sigmas[i];
    }
    double[] c = new double[q];
    for (int j = 0; j < q; j++) {
      // ℓ_j(u) = Π_{k≠j} (u − u_k)/(u_j − u_k) as polynomial coefficients p[0..q−1].
      double[] p = new double[q];
      p[0] = 1;
      int deg = 0;
      double denom = 1;
      for (int k = 0; k < q; k++) {
        if (k == j) {
          continue;
        }
        for (int m = deg + 1; m > 0; m--) {
          p[m] = p[m - 1] - u[k] * p[m];
        }
        p[0] = -u[k] * p[0];
        deg++;
        denom *= u[j] - u[k];
      }
      // ∫_0^h u^m du = h^{m+1}/(m+1).
      double integral = 0;
      double hPow = h;
      for (int m = 0; m <= deg; m++) {
        integral += p[m] * hPow / (m + 1);
        hPow *= h;
      }
      c[j] = integral / denom;
    }
    return c;
  }
}
