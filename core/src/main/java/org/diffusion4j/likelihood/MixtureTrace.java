package org.diffusion4j.likelihood;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.tensor.Scalars;

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

  /**
   * The mixture's exact denoiser written in NDArray operations (responsibilities by a softmax), so
   * that autograd reaches x̂: what {@link DenoiserTrace} needs to run Hutchinson's estimator on an
   * exact model, and a check of the autograd path against this class's closed form. σ is shared by
   * the batch; conditioning is refused.
   */
  public static Denoiser differentiableDenoiser(GaussianMixture gm) {
    return (x, sigma, c) -> {
      Denoiser.checkSigma(sigma, x.getShape().get(0));
      for (double v : sigma) {
        if (v != sigma[0]) {
          throw new IllegalArgumentException("this mixture denoiser takes one σ per batch, got " + sigma[0] + " and " + v);
        }
      }
      if (!c.isEmpty()) {
        throw new IllegalArgumentException("a Gaussian mixture is unconditional, got " + c);
      }
      if (x.getShape().dimension() != 2 || x.getShape().get(1) != gm.dim()) {
        throw new IllegalArgumentException("state shape " + x.getShape() + " does not match the model's dimension "
            + gm.dim());
      }
      double s2 = sigma[0] * sigma[0];
      NDManager m = x.getManager();
      double[] w = gm.weights();
      double[][] mu = gm.means();
      double[] sd = gm.stds();
      NDArray logits = null;
      NDArray[] comp = new NDArray[w.length];
      for (int k = 0; k < w.length; k++) {
        double v = sd[k] * sd[k] + s2;
        NDArray muK = m.create(mu[k]).toType(x.getDataType(), false);
        NDArray l = Scalars.mul(x.sub(muK).square().sum(new int[] {1}, true), -0.5 / v)
            .add(Math.log(w[k]) - 0.5 * gm.dim() * Math.log(v));
        logits = logits == null ? l : logits.concat(l, 1);
        comp[k] = Scalars.mul(x, sd[k] * sd[k] / v).add(Scalars.mul(muK, s2 / v));
      }
      NDArray r = logits.softmax(1);
      NDArray out = null;
      for (int k = 0; k < w.length; k++) {
        NDArray t = comp[k].mul(r.get(":, " + k + ":" + (k + 1)));
        out = out == null ? t : out.add(t);
      }
      return out;
    };
  }
}
