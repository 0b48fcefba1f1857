package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Collection;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} does it: with
 * {@code ‖g‖ = sqrt(Σ_i ‖g_i‖²)} over all gradients, every gradient is scaled in place by
 * {@code min(1, maxNorm/(‖g‖ + 1e-6))}.
 */
public final class GradientClipping {
  private GradientClipping() {}

  /** The global L2 norm {@code sqrt(Σ_i ‖g_i‖²)}, accumulated in double. */
  public static double globalNorm(Collection<NDArray> grads) {
    double sum = 0;
    for (NDArray g : grads) {
      try (NDArray d = g.toType(DataType.FLOAT64, true); NDArray sq = d.square(); NDArray s = sq.sum()) {
        sum += s.getDouble();
      }
    }
    return Math.sqrt(sum);
  }

  /**
   * Scales the gradients in place so their global norm is at most {@code maxNorm}; returns the norm
   * before clipping. A non-finite norm leaves the gradients untouched (the caller should skip the step).
   */
  public static double clipGlobalNorm(Collection<NDArray> grads, double maxNorm) {
    if (!(maxNorm > 0)) {
      throw new IllegalArgumentException("max gradient norm " + maxNorm + " must be > 0");
    }
    double norm = globalNorm(grads);
    if (!Double.isFinite(norm)) {
      return norm;
    }
    double coef = maxNorm / (norm + 1e-6);
    if (coef < 1) {
      for (NDArray g : grads) {
        g.muli(coef);
      }
    }
    return norm;
  }
}
