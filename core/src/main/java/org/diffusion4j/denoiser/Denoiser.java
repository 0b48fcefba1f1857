package org.diffusion4j.denoiser;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.Arrays;

/**
 * The model as the frame sees it: {@code D(x̂; σ, c) ≈ E[x0 | x̂, c]}, where {@code x̂ = x0 + σ ε} is the
 * scaled state {@code x/s(t)} and c the batch's {@link Conditioning} (Karras et al. 2022, eq. 2 and 7).
 *
 * <p>The noise level is per sample ({@code σ[i]} for row i), as training draws one per example and
 * flow maps need two; the scalar form {@link #denoise(NDArray, double)} is the convenience samplers use.
 * ε-, v-, score- and velocity-networks become denoisers through {@link Parameterization} and
 * {@link Preconditioning}; guidance and thresholding are decorators of this interface, and every
 * decorator passes the conditioning on. Samplers call the scalar form as often as their method needs
 * and never see how the model is made; the batch's conditioning reaches the model through
 * {@link #conditioned}.
 */
@FunctionalInterface
public interface Denoiser {

  /**
   * @param x the scaled state x̂, shape {@code [n, …]}, FLOAT32 or FLOAT64
   * @param sigma the noise level of each sample, length n, each ≥ 0
   * @param conditioning the batch's conditioning ({@link Conditioning#NONE} for none)
   * @return the x0-estimate, same shape and dtype as {@code x}
   */
  NDArray denoise(NDArray x, double[] sigma, Conditioning conditioning);

  /** {@code D(x̂; σ)} with σ shared by the batch and no conditioning beyond what is {@link #conditioned bound}. */
  default NDArray denoise(NDArray x, double sigma) {
    return denoise(x, constant(x.getShape().get(0), sigma), Conditioning.NONE);
  }

  /**
   * This denoiser with the batch's conditioning bound: calls without conditioning (the samplers')
   * receive {@code c}; calls whose conditioning sets only a target level (a flow-map sampler's) receive
   * {@code c} with that target level; calls with other conditioning of their own (a decorator's) keep it.
   * A call on k·n rows, k blocks of the n samples (a window of grid points evaluated at once), receives
   * {@code c} repeated k times.
   */
  default Denoiser conditioned(Conditioning c) {
    if (c.isEmpty()) {
      return this;
    }
    Denoiser inner = this;
    return (x, sigma, given) -> {
      if (given.isEmpty()) {
        return inner.denoise(x, sigma, fit(c, x.getShape().get(0)));
      }
      if (given.labels() == null && given.guidance() == null && given.mask() == null) {
        return inner.denoise(x, sigma, fit(c, x.getShape().get(0)).withSigmaTarget(given.sigmaTarget()));
      }
      return inner.denoise(x, sigma, given);
    };
  }

  /**
   * {@code c} for a batch of {@code rows}: itself when it describes that many samples, repeated k times
   * when the batch is k blocks of its samples (several grid points of each sample stacked in one call);
   * otherwise the size mismatch is an error.
   */
  private static Conditioning fit(Conditioning c, long rows) {
    int n = c.size();
    if (n > 0 && rows != n && rows % n == 0) {
      return c.repeat(Math.toIntExact(rows / n));
    }
    return c.requireSize(rows);
  }

  /** A scalar-σ model without conditioning (an exact density, a test double). */
  @FunctionalInterface
  interface Shared {
    NDArray denoise(NDArray x, double sigma);
  }

  /**
   * Makes a model that takes one σ per call into a {@link Denoiser}: a batch with equal σ's is one call,
   * otherwise the rows are evaluated one σ at a time. Conditioning is refused, since such a model cannot
   * use it.
   */
  static Denoiser shared(Shared model) {
    return (x, sigma, c) -> {
      long n = x.getShape().get(0);
      checkSigma(sigma, n);
      if (!c.isEmpty()) {
        throw new IllegalArgumentException("this model takes no conditioning, got " + c);
      }
      boolean equal = true;
      for (double s : sigma) {
        equal &= s == sigma[0];
      }
      if (equal) {
        return model.denoise(x, sigma[0]);
      }
      NDList rows = new NDList();
      for (int i = 0; i < n; i++) {
        rows.add(model.denoise(x.get(i).expandDims(0), sigma[i]));
      }
      return NDArrays.concat(rows, 0);
    };
  }

  /** {@code n} copies of σ. */
  static double[] constant(long n, double sigma) {
    double[] s = new double[Math.toIntExact(n)];
    Arrays.fill(s, sigma);
    return s;
  }

  /** Checks a per-sample σ array against the batch: length n, every value finite and ≥ 0. */
  static void checkSigma(double[] sigma, long n) {
    if (sigma.length != n) {
      throw new IllegalArgumentException("σ has " + sigma.length + " values for a batch of " + n);
    }
    for (int i = 0; i < sigma.length; i++) {
      if (!(sigma[i] >= 0) || Double.isInfinite(sigma[i])) {
        throw new IllegalArgumentException("σ must be finite and >= 0, got " + sigma[i] + " for sample " + i);
      }
    }
  }
}
