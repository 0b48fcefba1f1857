package org.diffusion4j.likelihood;

import java.util.Arrays;
import org.diffusion4j.sampling.ode.GaussLegendre;

/**
 * Log-density differences recovered from a score field by integrating it along a path: for a
 * conservative score {@code s = ∇log p},
 * <pre>
 *   log p(x) − log p(x_ref) = ∫₀¹ s(γ(τ))ᵀ γ'(τ) dτ,
 * </pre>
 * with the straight path γ(τ) = x_ref + τ(x − x_ref) (the gradient theorem; Hyvärinen 2005 §2 recovers the
 * log-density up to its constant this way). The score is the denoiser's, {@code s = (D(x; σ) − x)/σ²}
 * (Tweedie's formula; Karras et al. 2022 eq. 3), so the result is log p_σ up to a constant.
 *
 * <p>A learned score need not be conservative (Karras et al. 2022 App. B.3 notes practical denoisers are
 * not exactly gradient fields): {@link #alongAxes} integrates along the axis-aligned path that changes one
 * coordinate at a time, and its difference from {@link #straight} is a path-dependence (curl) diagnostic —
 * zero, to quadrature error, for an exact score. Integrals are composite 16-point Gauss–Legendre rules.
 */
public final class ScorePathDensity {
  /** Rows per denoiser call. */
  public static final int MAX_ROWS = 32_768;

  private ScorePathDensity() {}

  /**
   * {@code log p_σ(x_i) − log p_σ(x_ref)} along straight paths.
   *
   * @param model the denoiser on host doubles
   * @param sigma noise level of the score, &gt; 0
   * @param ref the reference point, length d
   * @param x n points, n·d row-major
   * @param panels Gauss–Legendre panels on [0, 1] (16 nodes each), ≥ 1
   */
  public static double[] straight(HostDenoiser model, double sigma, double[] ref, double[] x, int panels) {
    int d = check(model, sigma, ref, x);
    int n = x.length / d;
    double[][] rule = GaussLegendre.unitInterval(panels);
    double[] out = new double[n];
    int q = rule[0].length;
    int pointsPerCall = Math.max(1, MAX_ROWS / q);
    for (int from = 0; from < n; from += pointsPerCall) {
      int k = Math.min(pointsPerCall, n - from);
      double[] y = new double[k * q * d];
      for (int p = 0; p < k; p++) {
        int i = from + p;
        for (int j = 0; j < q; j++) {
          double tau = rule[0][j];
          for (int c = 0; c < d; c++) {
            y[(p * q + j) * d + c] = ref[c] + tau * (x[i * d + c] - ref[c]);
          }
        }
      }
      double[] s = score(model, y, sigma);
      for (int p = 0; p < k; p++) {
        int i = from + p;
        double acc = 0;
        for (int j = 0; j < q; j++) {
          double dot = 0;
          for (int c = 0; c < d; c++) {
            dot += s[(p * q + j) * d + c] * (x[i * d + c] - ref[c]);
          }
          acc += rule[1][j] * dot;
        }
        out[i] = acc;
      }
    }
    return out;
  }

  /**
   * The same along the axis-aligned path from x_ref that sets coordinate 0 to x's, then coordinate 1, …
   * (d legs of {@code panels} panels each).
   */
  public static double[] alongAxes(HostDenoiser model, double sigma, double[] ref, double[] x, int panels) {
    int d = check(model, sigma, ref, x);
    int n = x.length / d;
    double[][] rule = GaussLegendre.unitInterval(panels);
    int q = rule[0].length;
    double[] out = new double[n];
    int pointsPerCall = Math.max(1, MAX_ROWS / (q * d));
    for (int from = 0; from < n; from += pointsPerCall) {
      int k = Math.min(pointsPerCall, n - from);
      double[] y = new double[k * d * q * d];
      for (int p = 0; p < k; p++) {
        int i = from + p;
        for (int leg = 0; leg < d; leg++) {
          for (int j = 0; j < q; j++) {
            int row = (p * d + leg) * q + j;
            for (int c = 0; c < d; c++) {
              double v = c < leg ? x[i * d + c] : ref[c];
              if (c == leg) {
                v = ref[c] + rule[0][j] * (x[i * d + c] - ref[c]);
              }
              y[row * d + c] = v;
            }
          }
        }
      }
      double[] s = score(model, y, sigma);
      for (int p = 0; p < k; p++) {
        int i = from + p;
        double acc = 0;
        for (int leg = 0; leg < d; leg++) {
          double delta = x[i * d + leg] - ref[leg];
          for (int j = 0; j < q; j++) {
            acc += rule[1][j] * s[((p * d + leg) * q + j) * d + leg] * delta;
          }
        }
        out[i] = acc;
      }
    }
    return out;
  }

  private static double[] score(HostDenoiser model, double[] y, double sigma) {
    int d = model.dim();
    double[] sg = new double[y.length / d];
    Arrays.fill(sg, sigma);
    double[] den = model.denoise(y, sg);
    double[] s = new double[y.length];
    double inv = 1 / (sigma * sigma);
    for (int i = 0; i < s.length; i++) {
      s[i] = (den[i] - y[i]) * inv;
    }
    for (double v : s) {
      if (!Double.isFinite(v)) {
        throw new NonFiniteLikelihoodException("the score (D(x; σ) − x)/σ² at σ = " + sigma + " is not finite");
      }
    }
    return s;
  }

  private static int check(HostDenoiser model, double sigma, double[] ref, double[] x) {
    int d = model.dim();
    if (!(sigma > 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("σ must be finite and > 0, got " + sigma);
    }
    if (ref.length != d) {
      throw new IllegalArgumentException("the reference point has " + ref.length + " coordinates, the model " + d);
    }
    if (x.length % d != 0) {
      throw new IllegalArgumentException(x.length + " coordinates are not a multiple of the dimension " + d);
    }
    for (double v : ref) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("the reference point " + Arrays.toString(ref) + " is not finite");
      }
    }
    for (double v : x) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("the points must be finite, got " + v);
      }
    }
    return d;
  }
}
