package org.diffusion4j.analytic;

/**
 * A high-accuracy solution of the PF-ODE {@code dx̂/dσ = −σ ∇log p_σ(x̂)} of a {@link GaussianMixture},
 * by adaptive Dormand–Prince 5(4) in double on the host (the reference every sampler's error is
 * measured against). The right-hand side is exact at σ = 0, so the solution reaches data exactly.
 */
public final class ExactFlow {
  private ExactFlow() {}

  /** Default relative and absolute tolerance: 1e-11. */
  public static final double TOLERANCE = 1e-11;

  /**
   * Transports the scaled states {@code x} (n·d, row-major) from σ = {@code from} to σ = {@code to}.
   */
  public static double[] solve(GaussianMixture gm, double[] x, double from, double to) {
    return solve(gm, x, from, to, TOLERANCE);
  }

  /** As {@link #solve(GaussianMixture, double[], double, double)} with tolerance {@code tol}. */
  public static double[] solve(GaussianMixture gm, double[] x, double from, double to, double tol) {
    double[] y = x.clone();
    if (from == to) {
      return y;
    }
    double s = from;
    double h = (to - from) / 64;
    double[][] k = new double[7][];
    int guard = 0;
    while ((to - s) * Math.signum(to - from) > 0) {
      if (++guard > 10_000_000) {
        throw new IllegalStateException("reference PF-ODE solver did not converge");
      }
      if ((s + h - to) * Math.signum(to - from) > 0) {
        h = to - s;
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
        k[st] = gm.pfOdeDerivative(yi, s + DormandPrince.C[st] * h);
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
      if (err <= 1) {
        s += h;
        y = y5;
      }
      double factor = err == 0 ? 5 : Math.min(5, Math.max(0.2, 0.9 * Math.pow(err, -0.2)));
      h *= factor;
    }
    return y;
  }
}
