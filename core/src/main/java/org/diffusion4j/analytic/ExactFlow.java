package org.diffusion4j.analytic;

/**
 * A high-accuracy solution of the PF-ODE {@code dx̂/dσ = −σ ∇log p_σ(x̂)} of a {@link GaussianMixture},
 * by adaptive Dormand–Prince 5(4) (Dormand &amp; Prince 1980) in double on the host, one sample at a
 * time with its own step sizes (the reference every sampler's error is measured against).
 *
 * <p><b>Near σ = 0.</b> With a point mass (s_k = 0) the right-hand side {@code Σ r_k (x̂ − μ_k)σ/(s_k²+σ²)}
 * is 0/0 at σ = 0 (its limit is finite: x̂ − μ_k ∝ σ there), so the solver never evaluates it below
 * {@link #tailSigma}: it integrates down to that σ and finishes in closed form. For σ below the tail
 * level the responsibilities have settled on one component k (their log-odds grow like
 * {@code ‖x̂ − μ‖²/σ²}), and for a single component the flow is exact:
 * {@code x̂(σ) = μ_k + (x̂(σ_t) − μ_k)·sqrt((s_k² + σ²)/(s_k² + σ_t²))} — which at s_k = 0 lands on μ_k.
 * The neglected terms are the other components' responsibilities at σ ≤ σ_t, exponentially small
 * except for samples within ~σ_t of a decision boundary.
 *
 * <p><b>Limits.</b> Each sample gets at most {@link #MAX_STEPS} trial steps, and a step below 1e-13
 * of the current σ (relative) stops the solve: both with an {@link IllegalStateException} naming the
 * sample and σ, never a hang. Cost is linear in the number of samples; {@link #solveFirst} bounds it
 * by checking only a prefix.
 */
public final class ExactFlow {
  private ExactFlow() {}

  /** Default relative and absolute tolerance: 1e-11. */
  public static final double TOLERANCE = 1e-11;

  /** Trial steps allowed per sample. */
  public static final int MAX_STEPS = 1_000_000;

  /**
   * Transports the scaled states {@code x} (n·d, row-major) from σ = {@code from} to σ = {@code to}.
   */
  public static double[] solve(GaussianMixture gm, double[] x, double from, double to) {
    return solve(gm, x, from, to, TOLERANCE);
  }

  /** As {@link #solve(GaussianMixture, double[], double, double)} with tolerance {@code tol}. */
  public static double[] solve(GaussianMixture gm, double[] x, double from, double to, double tol) {
    return solveFirst(gm, x, from, to, tol, x.length / gm.dim());
  }

  /**
   * The flow of only the first {@code k} samples of {@code x} (all when there are fewer): a check whose
   * cost does not grow with the number of samples drawn. Returns k·d values.
   */
  public static double[] solveFirst(GaussianMixture gm, double[] x, double from, double to, int k) {
    return solveFirst(gm, x, from, to, TOLERANCE, k);
  }

  /** As {@link #solveFirst(GaussianMixture, double[], double, double, int)} with tolerance {@code tol}. */
  public static double[] solveFirst(GaussianMixture gm, double[] x, double from, double to, double tol, int k) {
    int d = gm.dim();
    if (x.length % d != 0) {
      throw new IllegalArgumentException("state length " + x.length + " is not a multiple of the dimension " + d);
    }
    if (!(from >= 0) || !(to >= 0) || Double.isInfinite(from) || Double.isInfinite(to)) {
      throw new IllegalArgumentException("sigmas must be finite and >= 0, got " + from + " and " + to);
    }
    if (k < 0) {
      throw new IllegalArgumentException("sample count must be >= 0, got " + k);
    }
    int n = Math.min(k, x.length / d);
    double[] out = new double[n * d];
    double tail = tailSigma(gm);
    for (int i = 0; i < n; i++) {
      double[] y = java.util.Arrays.copyOfRange(x, i * d, (i + 1) * d);
      double[] r;
      if (to < from && to < tail) {
        // Down into the tail: integrate to the tail level, then the closed form of the settled component.
        r = from > tail ? integrate(gm, y, from, tail, tol, i) : y;
        r = tailFlow(gm, r, Math.min(from, tail), to);
      } else if (to > from && from < tail) {
        throw new IllegalArgumentException("the PF-ODE upward from sigma " + from + " below " + tail
            + " is not unique at a point mass; start at sigma >= " + tail);
      } else {
        r = integrate(gm, y, from, to, tol, i);
      }
      System.arraycopy(r, 0, out, i * d, d);
    }
    return out;
  }

  /**
   * The σ below which the flow is finished in closed form: 1e-9 of the mixture's length scale
   * (max(1, |μ|, s)), far below every σ a sampler grid uses (≥ 1e-5 relative in practice).
   */
  public static double tailSigma(GaussianMixture gm) {
    double scale = 1;
    double[][] mu = gm.means();
    double[] s = gm.stds();
    for (int k = 0; k < s.length; k++) {
      scale = Math.max(scale, s[k]);
      for (double m : mu[k]) {
        scale = Math.max(scale, Math.abs(m));
      }
    }
    return 1e-9 * scale;
  }

  /** The exact single-component flow of the component most responsible for {@code y} at σ = {@code from}. */
  private static double[] tailFlow(GaussianMixture gm, double[] y, double from, double to) {
    int k = gm.mostResponsible(y, from);
    double s = gm.stds()[k];
    double[] mu = gm.means()[k];
    double ratio = s == 0 ? to / from : Math.sqrt((s * s + to * to) / (s * s + from * from));
    double[] out = new double[y.length];
    for (int j = 0; j < y.length; j++) {
      out[j] = mu[j] + (y[j] - mu[j]) * ratio;
    }
    return out;
  }

  /** Adaptive Dormand–Prince for one sample from σ = from to σ = to (both &gt; 0, or to = from). */
  private static double[] integrate(GaussianMixture gm, double[] y0, double from, double to, double tol, int sample) {
    double[] y = y0.clone();
    if (from == to) {
      return y;
    }
    double dir = Math.signum(to - from);
    double s = from;
    double h = (to - from) / 64;
    double[][] k = new double[7][];
    int steps = 0;
    while ((to - s) * dir > 0) {
      if (++steps > MAX_STEPS) {
        throw new IllegalStateException("reference PF-ODE: sample " + sample + " needed more than " + MAX_STEPS
            + " steps (at sigma " + s + ")");
      }
      if ((s + h - to) * dir > 0) {
        h = to - s;
      }
      if (Math.abs(h) < 1e-13 * Math.abs(s) && s + h != to) {
        throw new IllegalStateException("reference PF-ODE: step size fell to " + Math.abs(h) + " at sigma " + s
            + " for sample " + sample + " (tolerance " + tol + " cannot be met)");
      }
      k[0] = gm.pfOdeDerivative(y, s);
      for (int st = 1; st < 7; st++) {
        double[] yi = y.clone();
        for (int j = 0; j < st; j++) {
          double a = DormandPrince.A[st][j];
          if (a != 0) {
            for (int i = 0; i < yi.length; i++) {
              yi[i] += h * a * k[j][i];
            }
          }
        }
        k[st] = gm.pfOdeDerivative(yi, st >= 5 ? s + h : s + DormandPrince.C[st] * h);
      }
      double err = 0;
      double[] y5 = y.clone();
      for (int i = 0; i < y.length; i++) {
        double d5 = 0;
        double de = 0;
        for (int j = 0; j < 7; j++) {
          d5 += DormandPrince.B5[j] * k[j][i];
          de += (DormandPrince.B5[j] - DormandPrince.B4[j]) * k[j][i];
        }
        y5[i] = y[i] + h * d5;
        double sc = tol + tol * Math.max(Math.abs(y[i]), Math.abs(y5[i]));
        err = Math.max(err, Math.abs(h * de) / sc);
      }
      if (Double.isNaN(err)) {
        throw new IllegalStateException("reference PF-ODE: the derivative is not finite near sigma " + s
            + " for sample " + sample);
      }
      if (err <= 1) {
        s = (s + h - to) * dir >= 0 ? to : s + h;
        y = y5;
      }
      double factor = err == 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -0.2)));
      h *= factor;
    }
    return y;
  }
}
