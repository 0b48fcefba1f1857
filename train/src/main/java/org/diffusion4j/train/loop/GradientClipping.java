package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import org.diffusion4j.train.nn.NativeOps;
import org.diffusion4j.train.nn.TorchScript;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Map;
import org.diffusion4j.tensor.Scalars;

/**
 * Global-norm gradient clipping as {@code torch.nn.utils.clip_grad_norm_} does it: with
 * {@code ‖g‖ = sqrt(Σ_i ‖g_i‖²)} over all gradients, every gradient is scaled in place by
 * {@code min(1, maxNorm/(‖g‖ + 1e-6))}. On PyTorch the per-tensor norms come from one
 * {@code _foreach_norm} call (float32 per tensor, the sum of squares in float64).
 */
public final class GradientClipping {
  private GradientClipping() {}

  /** The global L2 norm {@code sqrt(Σ_i ‖g_i‖²)}, accumulated in double. */
  public static double globalNorm(Collection<NDArray> grads) {
    if (!grads.isEmpty() && TorchScript.isTorch(grads.iterator().next())) {
      // Per-tensor norms in one _foreach_norm, their squares summed in float64.
      try (NDScope scope = new NDScope()) {
        return Math.sqrt(NativeOps.sumOfSquares(new ArrayList<>(grads)));
      }
    }
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
   * before clipping. A non-finite norm leaves the gradients untouched and is returned as it is: scaling
   * by {@code maxNorm/∞ = 0} would turn every ±∞ entry into {@code 0·∞ = NaN} and zero the rest, and an
   * optimiser step on such gradients makes its moments and then the parameters NaN. The caller must not
   * take the step ({@link #firstNonFinite} names the offending tensor).
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
      if (TorchScript.isTorch(grads.iterator().next())) {
        try (NDScope scope = new NDScope()) {
          NativeOps.scale(new ArrayList<>(grads), coef);
        }
      } else {
        for (NDArray g : grads) {
          Scalars.muli(g, coef);
        }
      }
    }
    return norm;
  }

  /**
   * The first gradient, in the map's order, holding a NaN or ±∞, described as
   * {@code "NAME (k of n entries non-finite)"}; null when every entry of every gradient is finite.
   *
   * @param params parameter arrays by name, each with its gradient attached
   */
  public static String firstNonFinite(Map<String, NDArray> params) {
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      try (NDScope scope = new NDScope()) {
        NDArray g = e.getValue().getGradient();
        long k = g.isInfinite().logicalOr(g.isNaN()).toType(DataType.INT64, false).sum().getLong();
        if (k > 0) {
          return e.getKey() + " (" + k + " of " + g.size() + " entries non-finite)";
        }
      }
    }
    return null;
  }
}
