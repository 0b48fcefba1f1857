package org.diffusion4j.sampling.sde;

import java.util.Iterator;
import java.util.function.BiFunction;

/**
 * Host double references of the k-diffusion / EDM stochastic samplers for replay tests, written from
 * the papers' forms (DDIM-like weights σ_d/σ, exponential integrals of the Newton interpolant of D in
 * λ) rather than from the Java samplers' expressions. x is a flat array of x̂ values; {@code eps}
 * yields the noise arrays in the order the sampler draws them.
 */
final class HostReference {
  private HostReference() {}

  /** The model: x̂ values and σ to x0-estimates. */
  interface Model extends BiFunction<double[], Double, double[]> {}

  private static double[] comb(double a, double[] x, double b, double[] y) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = a * x[i] + b * y[i];
    }
    return out;
  }

  private static double[] addNoise(double[] x, double scale, Iterator<double[]> eps) {
    return comb(1, x, scale, eps.next());
  }

  /** {σ_down, σ_up} of an ancestral step: σ_up = min(σ_next, η σ_next sqrt(1 − σ_next²/σ²)). */
  static double[] split(double sigma, double sigmaNext, double eta) {
    double up = Math.min(sigmaNext, eta * sigmaNext * Math.sqrt(1 - (sigmaNext / sigma) * (sigmaNext / sigma)));
    return new double[] {Math.sqrt(sigmaNext * sigmaNext - up * up), up};
  }

  /** x̂_next = (σ_d/σ) x̂ + (1 − σ_d/σ) D: the DDIM / first-order data-prediction step (= Euler in σ). */
  private static double[] ddim(double[] x, double[] d, double sigma, double sigmaDown) {
    return comb(sigmaDown / sigma, x, 1 - sigmaDown / sigma, d);
  }

  static double[] eulerAncestral(Model m, double[] sg, double[] x, double eta, double sNoise,
      Iterator<double[]> eps) {
    for (int i = 0; i + 1 < sg.length; i++) {
      double[] ud = split(sg[i], sg[i + 1], eta);
      x = ddim(x, m.apply(x, sg[i]), sg[i], ud[0]);
      if (ud[1] > 0) {
        x = addNoise(x, sNoise * ud[1], eps);
      }
    }
    return x;
  }

  static double[] edm(Model m, double[] sg, double[] x, double sChurn, double sTmin, double sTmax,
      double sNoise, Iterator<double[]> eps) {
    int n = sg.length - 1;
    for (int i = 0; i < n; i++) {
      double gamma = sg[i] >= sTmin && sg[i] <= sTmax ? Math.min(sChurn / n, Math.sqrt(2) - 1) : 0;
      double sHat = sg[i] * (1 + gamma);
      double[] xHat = sChurn > 0 ? addNoise(x, Math.sqrt(sHat * sHat - sg[i] * sg[i]) * sNoise, eps) : x;
      double[] dCur = comb(1 / sHat, xHat, -1 / sHat, m.apply(xHat, sHat));
      double[] xNext = comb(1, xHat, sg[i + 1] - sHat, dCur);
      if (sg[i + 1] > 0) {
        double[] dPrime = comb(1 / sg[i + 1], xNext, -1 / sg[i + 1], m.apply(xNext, sg[i + 1]));
        xNext = comb(1, xHat, sg[i + 1] - sHat, comb(0.5, dCur, 0.5, dPrime));
      }
      x = xNext;
    }
    return x;
  }

  /** Ancestral DPM-Solver++(2S): midpoint σ_s = sqrt(σ σ_d) (the λ-midpoint), SPEC SMP-13 Alg. 6. */
  static double[] dpmpp2sAncestral(Model m, double[] sg, double[] x, double eta, double sNoise,
      Iterator<double[]> eps) {
    for (int i = 0; i + 1 < sg.length; i++) {
      double[] ud = split(sg[i], sg[i + 1], eta);
      double[] d = m.apply(x, sg[i]);
      if (ud[0] == 0) {
        x = d;
      } else {
        double sMid = Math.sqrt(sg[i] * ud[0]);
        double[] u = ddim(x, d, sg[i], sMid);
        x = ddim(x, m.apply(u, sMid), sg[i], ud[0]);
      }
      if (ud[1] > 0) {
        x = addNoise(x, sNoise * ud[1], eps);
      }
    }
    return x;
  }

  /**
   * Stochastic DPM-Solver++ with ratio r: σ_s = σ^{1−r} σ_next^r, two ancestral stages whose noises are
   * the normalised Brownian increments over [σ_s, σ] and [σ_next, σ] of one path.
   */
  static double[] dpmppSde(Model m, double[] sg, double[] x, double eta, double sNoise, double r,
      Iterator<double[]> eps) {
    for (int i = 0; i + 1 < sg.length; i++) {
      double[] d = m.apply(x, sg[i]);
      if (sg[i + 1] == 0) {
        x = d;
        continue;
      }
      double sMid = Math.pow(sg[i], 1 - r) * Math.pow(sg[i + 1], r);
      double[] ud1 = split(sg[i], sMid, eta);
      double[] u = ddim(x, d, sg[i], ud1[0]);
      double[] z1 = null;
      if (eta > 0) {
        z1 = eps.next();
        u = comb(1, u, sNoise * ud1[1], z1);
      }
      double[] d2 = m.apply(u, sMid);
      double[] ud2 = split(sg[i], sg[i + 1], eta);
      x = ddim(x, comb(1 - 1 / (2 * r), d, 1 / (2 * r), d2), sg[i], ud2[0]);
      if (eta > 0) {
        // Brownian increments in σ-time: W(σ_s) − W(σ) = sqrt(σ − σ_s) z₁, W(σ_next) − W(σ_s) = sqrt(σ_s − σ_next) z₂.
        double[] w = comb(Math.sqrt(sg[i] - sMid), z1, Math.sqrt(sMid - sg[i + 1]), eps.next());
        x = comb(1, x, sNoise * ud2[1] / Math.sqrt(sg[i] - sg[i + 1]), w);
      }
    }
    return x;
  }

  /**
   * DPM-Solver++(kM) SDE with stochasticity η: x̂ ← (σ_next/σ) e^{−ηh} x̂ + (1+η)∫_0^h e^{−(1+η)(h−τ)}
   * p(λ+τ) dτ + σ_next sqrt(1 − e^{−2ηh}) S_noise ε, p the Newton interpolant of the last {@code order}
   * x0-estimates in λ. Constant and linear terms are integrated exactly; the quadratic term f[λ₀,λ₁,λ₂]·τ²
   * gets half its exact weight, as in the published DPM-Solver++(3M) (Lu et al.; k-diffusion); {@code
   * midpoint} replaces the linear weight (ĥ − 1 + e^{−ĥ})/(1+η) by h(1 − e^{−ĥ})/2 (k-diffusion's 2M).
   */
  static double[] dpmppMultistepSde(Model m, double[] sg, double[] x, int order, boolean midpoint, double eta,
      double sNoise, Iterator<double[]> eps) {
    double[][] ds = new double[3][];
    double[] lams = new double[3];
    int have = 0;
    for (int i = 0; i + 1 < sg.length; i++) {
      double[] d = m.apply(x, sg[i]);
      if (sg[i + 1] == 0) {
        return d;
      }
      ds[2] = ds[1];
      ds[1] = ds[0];
      ds[0] = d;
      lams[2] = lams[1];
      lams[1] = lams[0];
      lams[0] = -Math.log(sg[i]);
      have = Math.min(have + 1, order);
      double h = -Math.log(sg[i + 1]) - lams[0];
      double hh = (1 + eta) * h;
      double e = Math.exp(-hh);
      double[] next = comb(sg[i + 1] / sg[i] * Math.exp(-eta * h), x, 1 - e, d);
      if (have >= 2) {
        double h1 = lams[0] - lams[1];
        double[] f01 = comb(1 / h1, ds[0], -1 / h1, ds[1]);
        double[] slope = f01;
        double[] curv = null;
        if (have == 3) {
          double h2 = lams[1] - lams[2];
          double[] f12 = comb(1 / h2, ds[1], -1 / h2, ds[2]);
          curv = comb(1 / (h1 + h2), f01, -1 / (h1 + h2), f12);
          slope = comb(1, f01, h1, curv);
        }
        double wLin = midpoint ? h * (1 - e) / 2 : (hh - 1 + e) / (1 + eta);
        next = comb(1, next, wLin, slope);
        if (curv != null) {
          // Exact would be (ĥ² − 2ĥ + 2 − 2e^{−ĥ})/(1+η)²; the published method uses half of it.
          next = comb(1, next, (hh * hh / 2 - hh + 1 - e) / ((1 + eta) * (1 + eta)), curv);
        }
      }
      if (eta > 0) {
        next = addNoise(next, sg[i + 1] * Math.sqrt(1 - Math.exp(-2 * eta * h)) * sNoise, eps);
      }
      x = next;
    }
    return x;
  }
}
