package org.diffusion4j.denoiser;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * The flow map of the probability-flow ODE, {@code Ψ(x̂, σ → σ′)}, as the frame carries it: a
 * {@link Denoiser} asked at σ with the target level σ′ in {@link Conditioning#sigmaTarget()} returns
 * the "x0-estimate" g for which one DDIM (Euler in x̂ and σ) step from σ to σ′ lands on the map,
 * <pre>
 *   G(x̂, σ, σ′) = (σ′/σ) x̂ + (1 − σ′/σ) g(x̂, σ, σ′)
 * </pre>
 * (the consistency-trajectory parameterisation of Kim et al. 2024, eq. 5, in EDM coordinates).
 * So {@code G(x̂, σ, σ) = x̂} for every g, {@code G(x̂, σ, 0) = g} (a consistency function), and
 * {@code g(x̂, σ, σ)} — the call without a target level — is the model's denoiser, which every ordinary
 * sampler can use. The average velocity of Mean Flows (Geng et al. 2025) is {@code h = (x̂ − g)/σ},
 * since {@code G = x̂ + (σ′ − σ) h}. One-time models (consistency models, Song et al. 2023) ignore σ′:
 * their g is the map to σ_min ≈ 0 and only {@code σ′ = 0} is their flow map.
 */
public final class FlowMap {
  private FlowMap() {}

  /**
   * {@code G(x̂, σ, σ′)} of {@code model} per row.
   *
   * @param model a flow-map model in the convention above
   * @param xHat the scaled state, {@code [n, …]}
   * @param sigma the current level of each row, ≥ 0
   * @param sigmaTarget the target level of each row, {@code 0 ≤ σ′ ≤ σ}
   * @param c the batch's other conditioning (its own target level, if any, is replaced)
   */
  public static NDArray apply(Denoiser model, NDArray xHat, double[] sigma, double[] sigmaTarget, Conditioning c) {
    long n = xHat.getShape().get(0);
    double[] ratio = ratios(sigma, sigmaTarget, n);
    boolean identity = true;
    for (double r : ratio) {
      identity &= r == 1;
    }
    if (identity) {
      return xHat.duplicate();
    }
    NDArray g = model.denoise(xHat, sigma, c.withSigmaTarget(sigmaTarget));
    NDArray r = column(xHat, ratio);
    NDArray out = xHat.mul(r).add(g.mul(r.neg().add(1)));
    r.close();
    g.close();
    return out;
  }

  /**
   * The g that makes {@code G(x̂, σ, σ′)} equal {@code mapped}: {@code g = (σ·mapped − σ′·x̂)/(σ − σ′)},
   * rows with σ′ = σ taken from {@code atEqual} (the denoiser, the limit of this quotient).
   */
  public static double[] gOf(double[] xHat, double[] mapped, double[] atEqual, double[] sigma, double[] sigmaTarget,
      int dim) {
    double[] g = new double[xHat.length];
    for (int i = 0; i < sigma.length; i++) {
      double s = sigma[i];
      double t = sigmaTarget[i];
      for (int j = i * dim; j < (i + 1) * dim; j++) {
        g[j] = t == s ? atEqual[j] : (s * mapped[j] - t * xHat[j]) / (s - t);
      }
    }
    return g;
  }

  /** σ′/σ per row after checking both (σ = σ′ = 0 gives 1). */
  static double[] ratios(double[] sigma, double[] sigmaTarget, long n) {
    Denoiser.checkSigma(sigma, n);
    if (sigmaTarget == null || sigmaTarget.length != n) {
      throw new IllegalArgumentException("a flow map needs one target σ per sample (" + n + "), got "
          + (sigmaTarget == null ? "none" : sigmaTarget.length));
    }
    double[] r = new double[sigma.length];
    for (int i = 0; i < r.length; i++) {
      double t = sigmaTarget[i];
      if (!(t >= 0 && t <= sigma[i])) {
        throw new IllegalArgumentException("target σ′ = " + t + " of sample " + i + " must lie in [0, σ = "
            + sigma[i] + "]");
      }
      r[i] = t == sigma[i] ? 1 : t / sigma[i];
    }
    return r;
  }

  /** {@code v} as a {@code [n, 1, …]} array in x's dtype. */
  static NDArray column(NDArray x, double[] v) {
    long[] b = new long[x.getShape().dimension()];
    Arrays.fill(b, 1);
    b[0] = v.length;
    return x.getManager().create(v, new Shape(b)).toType(x.getDataType(), false);
  }
}
