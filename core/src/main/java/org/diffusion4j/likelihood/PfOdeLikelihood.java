package org.diffusion4j.likelihood;

import org.diffusion4j.analytic.DormandPrince;

/**
 * Log-likelihood through the probability-flow ODE by the instantaneous change of variables (Chen et al.
 * 2018, Thm. 1; Song et al. 2021, §D.2, eq. 39): along {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ} from
 * x̂(σ_start) = x0 to σ_end, {@code log p_start(x0) = log p_end(x̂(σ_end)) + ∫ ∇·(dx̂/dσ) dσ}.
 *
 * <p>The augmented state (x̂, δ) is integrated in {@code u = ln σ}, where the system reads
 * {@code dx̂/du = x̂ − D} and {@code dδ/du = d − tr ∂D/∂x̂}, with adaptive Dormand–Prince 5(4) (Dormand
 * &amp; Prince 1980) and scipy's step control: per point the RMS of {@code e/(atol + rtol·max(|y|, |y_new|))}
 * over its d + 1 components, the batch's largest accepted when &lt; 1,
 * {@code h ← h·clip(0.9‖e‖^{−1/5}, 0.2, 10)}. All arithmetic is in double on the host.
 */
public final class PfOdeLikelihood {
  private static final int MAX_STEPS = 100_000;
  private final double sigmaStart;
  private final double sigmaEnd;
  private final double rtol;
  private final double atol;
  private final PriorDensity prior;

  /**
   * @param sigmaStart σ at the data end (&gt; 0; the density computed is that of p at this σ)
   * @param sigmaEnd σ_max, the prior's level, &gt; sigmaStart
   * @param rtol relative tolerance in [1e-12, 1]
   * @param atol absolute tolerance in [0, 1]
   * @param prior log-density at σ_end
   */
  public PfOdeLikelihood(double sigmaStart, double sigmaEnd, double rtol, double atol, PriorDensity prior) {
    if (!(sigmaStart > 0) || Double.isInfinite(sigmaStart)) {
      throw new IllegalArgumentException("sigma-start must be finite and > 0, got " + sigmaStart);
    }
    if (!(sigmaEnd > sigmaStart) || Double.isInfinite(sigmaEnd)) {
      throw new IllegalArgumentException("sigma-end must be finite and > sigma-start " + sigmaStart + ", got " + sigmaEnd);
    }
    if (!(rtol >= 1e-12 && rtol <= 1)) {
      throw new IllegalArgumentException("rtol must lie in [1e-12, 1], got " + rtol);
    }
    if (!(atol >= 0 && atol <= 1)) {
      throw new IllegalArgumentException("atol must lie in [0, 1], got " + atol);
    }
    this.sigmaStart = sigmaStart;
    this.sigmaEnd = sigmaEnd;
    this.rtol = rtol;
    this.atol = atol;
    this.prior = prior;
  }

  /** With the samplers' prior {@code N(0, σ_end² I)}. */
  public PfOdeLikelihood(double sigmaStart, double sigmaEnd, double rtol, double atol) {
    this(sigmaStart, sigmaEnd, rtol, atol, PriorDensity.gaussian());
  }

  /**
   * The result for n points.
   *
   * @param logLikelihood log p(x0) per point (nats)
   * @param priorLogDensity log p_end(x̂(σ_end)) per point
   * @param deltaLogDensity the divergence integral per point
   * @param end x̂(σ_end), row-major
   * @param nfe number of model evaluations (each a TraceModel call)
   * @param steps accepted steps
   */
  public record Result(double[] logLikelihood, double[] priorLogDensity, double[] deltaLogDensity, double[] end,
      int nfe, int steps) {}

  /**
   * @param model the denoiser with its Jacobian trace
   * @param x0 n points row-major {@code n·d} (data scale)
   * @param rows the points' global indices (for Hutchinson probes), length n
   */
  public Result logLikelihood(TraceModel model, double[] x0, long[] rows) {
    int d = model.dim();
    int n = rows.length;
    if (n == 0) {
      throw new IllegalArgumentException("no points to evaluate (empty data)");
    }
    if (x0.length != n * d) {
      throw new IllegalArgumentException("data has " + x0.length + " values, expected " + n + " points of dimension " + d);
    }
    for (int i = 0; i < x0.length; i++) {
      if (!Double.isFinite(x0[i])) {
        throw new IllegalArgumentException("data value " + i + " (point " + i / d + ") is not finite: " + x0[i]);
      }
    }
    int w = d + 1;
    double u = Math.log(sigmaStart);
    double uEnd = Math.log(sigmaEnd);
    double[] y = new double[n * w];
    for (int p = 0; p < n; p++) {
      System.arraycopy(x0, p * d, y, p * w, d);
    }
    int[] nfe = {0};
    double[] k0 = slope(model, y, rows, u, d, nfe);
    double h = initialStep(model, y, k0, rows, u, uEnd, d, nfe);
    double[][] k = new double[7][];
    boolean rejected = false;
    int steps = 0;
    int attempts = 0;
    while (u < uEnd) {
      org.diffusion4j.lifecycle.StopRequest.check("the likelihood computation stopped before it finished; nothing was written");
      if (++attempts > MAX_STEPS) {
        throw new IllegalStateException("the likelihood ODE needed more than " + MAX_STEPS + " steps; loosen rtol/atol ("
            + rtol + ", " + atol + ")");
      }
      if (h < 1e-12) {
        throw new IllegalStateException("likelihood ODE step size underflow at σ = " + Math.exp(u)
            + "; the model may be non-smooth, loosen rtol/atol (" + rtol + ", " + atol + ")");
      }
      boolean last = u + h >= uEnd;
      double hs = last ? uEnd - u : h;
      k[0] = k0;
      double[] yi = null;
      for (int st = 1; st < 7; st++) {
        yi = y.clone();
        for (int j = 0; j < st; j++) {
          double a = DormandPrince.A[st][j];
          if (a != 0) {
            double[] kj = k[j];
            for (int i = 0; i < yi.length; i++) {
              yi[i] += hs * a * kj[i];
            }
          }
        }
        k[st] = slope(model, yi, rows, st == 6 ? u + hs : u + DormandPrince.C[st] * hs, d, nfe);
      }
      double err = 0;
      for (int p = 0; p < n; p++) {
        double sq = 0;
        for (int c = 0; c < w; c++) {
          int i = p * w + c;
          double e = 0;
          for (int j = 0; j < 7; j++) {
            double b = DormandPrince.B5[j] - DormandPrince.B4[j];
            if (b != 0) {
              e += hs * b * k[j][i];
            }
          }
          double sc = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(yi[i]));
          sq += (e / sc) * (e / sc);
        }
        err = Math.max(err, Math.sqrt(sq / w));
      }
      if (!Double.isFinite(err)) {
        throw new NonFiniteLikelihoodException("the likelihood ODE's error estimate became non-finite at σ = "
            + Math.exp(u));
      }
      if (err < 1) {
        double factor = err == 0 ? 10 : Math.min(10, 0.9 * Math.pow(err, -0.2));
        if (rejected) {
          factor = Math.min(1, factor);
        }
        u = last ? uEnd : u + hs;
        y = yi;
        k0 = k[6];
        steps++;
        rejected = false;
        h = hs * factor;
      } else {
        h = hs * Math.max(0.2, 0.9 * Math.pow(err, -0.2));
        rejected = true;
      }
    }
    double[] end = new double[n * d];
    double[] delta = new double[n];
    for (int p = 0; p < n; p++) {
      System.arraycopy(y, p * w, end, p * d, d);
      delta[p] = y[p * w + d];
    }
    double[] lp = prior.logDensity(end, d, sigmaEnd);
    double[] ll = new double[n];
    for (int p = 0; p < n; p++) {
      ll[p] = lp[p] + delta[p];
    }
    return new Result(ll, lp, delta, end, nfe[0], steps);
  }

  /** The augmented slope in u = ln σ: (x̂ − D, d − tr ∂D/∂x̂) per point. */
  private static double[] slope(TraceModel model, double[] y, long[] rows, double u, int d, int[] nfe) {
    int n = rows.length;
    int w = d + 1;
    double[] x = new double[n * d];
    for (int p = 0; p < n; p++) {
      System.arraycopy(y, p * w, x, p * d, d);
    }
    double sigma = Math.exp(u);
    TraceModel.Evaluation e = model.evaluate(x, rows, sigma);
    nfe[0]++;
    for (int p = 0; p < n; p++) {
      if (!Double.isFinite(e.trace()[p])) {
        throw new NonFiniteLikelihoodException("the Jacobian trace of point " + rows[p] + " is " + e.trace()[p]
            + " at σ = " + sigma);
      }
    }
    for (int i = 0; i < e.denoised().length; i++) {
      if (!Double.isFinite(e.denoised()[i]) || !Double.isFinite(x[i])) {
        throw new NonFiniteLikelihoodException("the ODE state or the model's x0-estimate of point " + rows[i / d]
            + " is non-finite at σ = " + sigma + " (x̂ = " + x[i] + ", D = " + e.denoised()[i] + ")");
      }
    }
    double[] out = new double[y.length];
    for (int p = 0; p < n; p++) {
      for (int j = 0; j < d; j++) {
        out[p * w + j] = x[p * d + j] - e.denoised()[p * d + j];
      }
      out[p * w + d] = d - e.trace()[p];
    }
    return out;
  }

  /** Hairer–Wanner's starting step (Solving ODEs I, §II.4), as scipy's select_initial_step. */
  private double initialStep(TraceModel model, double[] y, double[] f0, long[] rows, double u, double uEnd, int d,
      int[] nfe) {
    double d0 = 0;
    double d1 = 0;
    for (int i = 0; i < y.length; i++) {
      double sc = atol + rtol * Math.abs(y[i]);
      d0 += (y[i] / sc) * (y[i] / sc);
      d1 += (f0[i] / sc) * (f0[i] / sc);
    }
    d0 = Math.sqrt(d0 / y.length);
    d1 = Math.sqrt(d1 / y.length);
    double span = uEnd - u;
    double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    h0 = Math.min(h0, span);
    double[] y1 = y.clone();
    for (int i = 0; i < y1.length; i++) {
      y1[i] += h0 * f0[i];
    }
    double[] f1 = slope(model, y1, rows, u + h0, d, nfe);
    double d2 = 0;
    for (int i = 0; i < y.length; i++) {
      double sc = atol + rtol * Math.abs(y[i]);
      double e = (f1[i] - f0[i]) / sc;
      d2 += e * e;
    }
    d2 = Math.sqrt(d2 / y.length) / h0;
    double h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / Math.max(d1, d2), 0.2);
    return Math.min(Math.min(100 * h0, h1), span);
  }
}
