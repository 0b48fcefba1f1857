package org.diffusion4j.sampling.ode;

/**
 * The λ-integrals of DPM-Solver-v3 (Zheng et al. 2023, §3.3) over piecewise-linear statistics, per
 * dimension, from a base point λ_s to λ_x (either side): {@code L = ∫ℓ}, {@code S = ∫s},
 * {@code B = ∫ e^{−S(r)} b_r dr} and, for a forward step, {@code K_k = ∫ e^{L+S} (λ − λ_s)^k dλ} and
 * {@code P = ∫ e^{L+S} B dλ}. The interval is cut at the knots and into pieces of at most {@link #MAX_PIECE}
 * in λ; on each piece L and S are exact quadratics and the rest is 8-point Gauss–Legendre (nested for B), so
 * constant statistics give the closed forms of DPM-Solver(++) to round-off.
 */
final class EmsIntegrals {
  /** Longest piece in λ. */
  static final double MAX_PIECE = 0.25;
  /** 8-point Gauss–Legendre on [0, 1]. */
  private static final double[][] RULE = GaussLegendre.unitRule(8);
  private static final double[] NODES = RULE[0];
  private static final double[] WEIGHTS = RULE[1];

  private EmsIntegrals() {}

  /**
   * Integrals from λ_s to λ_x, one value per dimension of the statistics.
   *
   * @param lRel ∫ℓ
   * @param sRel ∫s
   * @param bRel ∫ e^{−S} b
   * @param k {@code k[j][d] = ∫ e^{L+S} (λ − λ_s)^j}, j = 0..kmax (empty without moments)
   * @param p ∫ e^{L+S} B (null without moments)
   */
  record Segment(double[] lRel, double[] sRel, double[] bRel, double[][] k, double[] p) {}

  /**
   * @param kmax highest moment (−1: none, only L, S, B at λ_x)
   */
  static Segment integrate(ModelStatistics st, double ls, double lx, int kmax) {
    int dim = st.dim();
    double[][] cuts = pieces(st, ls, lx);
    boolean bias = st.hasBias();
    double[] lRel = new double[dim];
    double[] sRel = new double[dim];
    double[] bRel = new double[dim];
    double[][] k = new double[kmax + 1][dim];
    double[] p = kmax >= 0 ? new double[dim] : null;
    int q = NODES.length;
    for (int d = 0; d < dim; d++) {
      double l0 = 0;
      double s0 = 0;
      double b0 = 0;
      double pd = 0;
      for (double[] piece : cuts) {
        double a = piece[0];
        double c = piece[1];
        double w = c - a;
        double la = st.at(st.l(), a, d);
        double lc = st.at(st.l(), c, d);
        double sa = st.at(st.s(), a, d);
        double sc = st.at(st.s(), c, d);
        double ba = bias ? st.at(st.b(), a, d) : 0;
        double bc = bias ? st.at(st.b(), c, d) : 0;
        if (kmax >= 0) {
          for (int n = 0; n < q; n++) {
            double tau = NODES[n];
            double u = a + tau * w;
            double lu = l0 + w * (la * tau + 0.5 * (lc - la) * tau * tau);
            double su = s0 + w * (sa * tau + 0.5 * (sc - sa) * tau * tau);
            double e = Math.exp(lu + su) * WEIGHTS[n] * w;
            double pw = 1;
            for (int j = 0; j <= kmax; j++) {
              k[j][d] += e * pw;
              pw *= u - ls;
            }
            if (bias) {
              pd += e * (b0 + partialB(tau, w, s0, sa, sc, ba, bc));
            }
          }
        }
        if (bias) {
          b0 += partialB(1, w, s0, sa, sc, ba, bc);
        }
        l0 += 0.5 * w * (la + lc);
        s0 += 0.5 * w * (sa + sc);
      }
      lRel[d] = l0;
      sRel[d] = s0;
      bRel[d] = b0;
      if (p != null) {
        p[d] = pd;
      }
    }
    return new Segment(lRel, sRel, bRel, k, p);
  }

  /** {@code ∫_0^τ e^{−S} b w dτ'} on a piece of signed width w, S = s0 + w(sa τ' + (sc − sa)τ'²/2). */
  private static double partialB(double tau, double w, double s0, double sa, double sc, double ba, double bc) {
    double sum = 0;
    for (int m = 0; m < NODES.length; m++) {
      double t = tau * NODES[m];
      double s = s0 + w * (sa * t + 0.5 * (sc - sa) * t * t);
      sum += WEIGHTS[m] * Math.exp(-s) * (ba + (bc - ba) * t);
    }
    return sum * tau * w;
  }

  /** The pieces [a, c] from ls to lx (signed): cut at the knots, each at most MAX_PIECE long. */
  static double[][] pieces(ModelStatistics st, double ls, double lx) {
    java.util.List<Double> pts = new java.util.ArrayList<>();
    pts.add(ls);
    double lo = Math.min(ls, lx);
    double hi = Math.max(ls, lx);
    double[] knots = st.lambdas();
    java.util.List<Double> inner = new java.util.ArrayList<>();
    if (knots.length > 1) {
      for (double kn : knots) {
        if (kn > lo && kn < hi) {
          inner.add(kn);
        }
      }
    }
    if (lx < ls) {
      java.util.Collections.reverse(inner);
    }
    pts.addAll(inner);
    pts.add(lx);
    java.util.List<double[]> out = new java.util.ArrayList<>();
    for (int i = 0; i + 1 < pts.size(); i++) {
      double a = pts.get(i);
      double c = pts.get(i + 1);
      int m = Math.max(1, (int) Math.ceil(Math.abs(c - a) / MAX_PIECE));
      for (int j = 0; j < m; j++) {
        double pa = a + (c - a) * j / m;
        double pc = j == m - 1 ? c : a + (c - a) * (j + 1) / m;
        if (pc != pa) {
          out.add(new double[] {pa, pc});
        }
      }
    }
    return out.toArray(new double[0][]);
  }
}
