package org.diffusion4j.train.transport;

import org.diffusion4j.analytic.GaussianMixture;

/**
 * Closed-form marginal velocities of an affine conditional path under the independent coupling, for
 * a Gaussian source {@code N(m0, s0² I)} and a Gaussian-mixture target {@code Σ π_k N(μ_k, s_k² I)}.
 * Given component k the pair is jointly Gaussian, so {@code x_t | k ~ N(a m0 + b μ_k, V_k I)} with
 * {@code V_k = a² s0² + b² s_k² + s²}, and the conditional expectation of the conditional velocity is
 * <pre>
 *   E[u_t | x_t = x, k] = a' m0 + b' μ_k + (½ V_k' / V_k)(x − a m0 − b μ_k),
 * </pre>
 * the Gaussian-path velocity {@code v = (σ'/σ)(x − μ) + μ'} (Lipman et al. 2023, Theorem 3; the
 * Gaussian-to-Gaussian bridge); the mixture averages it with the responsibilities
 * {@code r_k(x) ∝ π_k N(x; a m0 + b μ_k, V_k I)}. For one component this is the exact marginal flow
 * between two Gaussians; for a mixture, the exact flow of the data (the PF-ODE for a N(0, I) source on
 * the linear path).
 */
public final class GaussianFlow {
  private GaussianFlow() {}

  /** The marginal velocity field; {@code m0} has the target's dimension, {@code s0} ≥ 0. */
  public static VelocityField marginal(double[] m0, double s0, GaussianMixture target, ConditionalPath path) {
    int d = target.dim();
    if (m0.length != d) {
      throw new IllegalArgumentException("source mean of dimension " + m0.length + " for a target of dimension " + d);
    }
    if (!(s0 >= 0) || Double.isInfinite(s0)) {
      throw new IllegalArgumentException("source std must be finite and >= 0, got " + s0);
    }
    double[] w = target.weights();
    double[][] mu = target.means();
    double[] sk = target.stds();
    int k = w.length;
    return (x, n, t) -> {
      double a = path.a(t);
      double b = path.b(t);
      double s = path.s(t);
      double da = path.da(t);
      double db = path.db(t);
      double ds = s == 0 ? 0 : path.ds(t);
      double[] out = new double[n * d];
      double[] logr = new double[k];
      double[] var = new double[k];
      double[] half = new double[k];
      for (int c = 0; c < k; c++) {
        var[c] = a * a * s0 * s0 + b * b * sk[c] * sk[c] + s * s;
        half[c] = a * da * s0 * s0 + b * db * sk[c] * sk[c] + s * ds;
        if (!(var[c] > 0)) {
          throw new IllegalArgumentException("the path's marginal variance vanishes at t = " + t
              + " (a point-mass end); evaluate inside (0, 1)");
        }
      }
      for (int i = 0; i < n; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < k; c++) {
          double d2 = 0;
          for (int j = 0; j < d; j++) {
            double u = x[i * d + j] - a * m0[j] - b * mu[c][j];
            d2 += u * u;
          }
          logr[c] = w[c] == 0 ? Double.NEGATIVE_INFINITY : Math.log(w[c]) - 0.5 * d2 / var[c] - 0.5 * d * Math.log(var[c]);
          max = Math.max(max, logr[c]);
        }
        double z = 0;
        for (int c = 0; c < k; c++) {
          logr[c] = Math.exp(logr[c] - max);
          z += logr[c];
        }
        for (int c = 0; c < k; c++) {
          double r = logr[c] / z;
          double g = half[c] / var[c];
          for (int j = 0; j < d; j++) {
            double mean = a * m0[j] + b * mu[c][j];
            out[i * d + j] += r * (da * m0[j] + db * mu[c][j] + g * (x[i * d + j] - mean));
          }
        }
      }
      return out;
    };
  }

  /** The linear-path flow from N(0, I) to {@code target} (its PF-ODE in the flow-matching convention). */
  public static VelocityField fromStandardNormal(GaussianMixture target) {
    return marginal(new double[target.dim()], 1, target, new ConditionalPath.Linear(0));
  }
}
