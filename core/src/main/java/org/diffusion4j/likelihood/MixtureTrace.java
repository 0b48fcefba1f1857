package org.diffusion4j.likelihood;

import org.diffusion4j.analytic.GaussianMixture;

/**
 * The exact denoiser of a Gaussian mixture with the exact trace of its Jacobian. With
 * {@code v_k = s_k² + σ²}, {@code a_k = s_k²/v_k}, component posterior means {@code m_k = a_k x̂ + (σ²/v_k) μ_k},
 * responsibilities r_k and {@code g_k = (μ_k − x̂)/v_k} (so {@code ∇r_k = r_k (g_k − Σ_j r_j g_j)}),
 * {@code D = Σ_k r_k m_k} and {@code tr ∂D/∂x̂ = d Σ_k r_k a_k + Σ_k r_k (m_k − D)·g_k}.
 */
public final class MixtureTrace implements TraceModel {
  private final GaussianMixture mixture;
  private final double[] weights;
  private final double[][] means;
  private final double[] stds;

  /** The exact trace model of {@code mixture}. */
  public MixtureTrace(GaussianMixture mixture) {
    this.mixture = mixture;
    this.weights = mixture.weights();
    this.means = mixture.means();
    this.stds = mixture.stds();
  }

  /** The mixture. */
  public GaussianMixture mixture() {
    return mixture;
  }

  @Override
  public int dim() {
    return mixture.dim();
  }

  @Override
  public Evaluation evaluate(double[] x, long[] rows, double sigma) {
    int d = mixture.dim();
    if (x.length != rows.length * d) {
      throw new IllegalArgumentException("expected " + rows.length + "·" + d + " coordinates, got " + x.length);
    }
    if (!(sigma > 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("sigma must be finite and > 0, got " + sigma);
    }
    int k = weights.length;
    double s2 = sigma * sigma;
    double[] den = new double[x.length];
    double[] tr = new double[rows.length];
    double[] r = new double[k];
    double[] v = new double[k];
    for (int c = 0; c < k; c++) {
      v[c] = stds[c] * stds[c] + s2;
    }
    for (int p = 0; p < rows.length; p++) {
      int off = p * d;
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < k; c++) {
        double d2 = 0;
        for (int j = 0; j < d; j++) {
          double u = x[off + j] - means[c][j];
          d2 += u * u;
        }
        r[c] = weights[c] == 0 ? Double.NEGATIVE_INFINITY : Math.log(weights[c]) - 0.5 * d2 / v[c] - 0.5 * d * Math.log(v[c]);
        max = Math.max(max, r[c]);
      }
      double z = 0;
      for (int c = 0; c < k; c++) {
        r[c] = Math.exp(r[c] - max);
        z += r[c];
      }
      double diag = 0;
      for (int c = 0; c < k; c++) {
        r[c] /= z;
        double a = stds[c] * stds[c] / v[c];
        diag += r[c] * a;
        for (int j = 0; j < d; j++) {
          den[off + j] += r[c] * (a * x[off + j] + s2 / v[c] * means[c][j]);
        }
      }
      double cross = 0;
      for (int c = 0; c < k; c++) {
        if (r[c] == 0) {
          continue;
        }
        double a = stds[c] * stds[c] / v[c];
        double dot = 0;
        for (int j = 0; j < d; j++) {
          double m = a * x[off + j] + s2 / v[c] * means[c][j];
          dot += (m - den[off + j]) * (means[c][j] - x[off + j]) / v[c];
        }
        cross += r[c] * dot;
      }
      tr[p] = d * diag + cross;
    }
    return new Evaluation(den, tr);
  }
}
