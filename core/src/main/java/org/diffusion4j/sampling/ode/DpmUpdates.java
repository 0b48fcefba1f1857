package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * The update formulas of DPM-Solver in its two parameterisations: noise prediction ε (Lu et al. 2022,
 * "DPM-Solver", Algorithms 1–2, App. B) and data prediction x0 (Lu et al. 2022, "DPM-Solver++", Algorithms
 * 1–2 and eqs. 8–10). With φ1 = e^h − 1, φ2 = φ1/h − 1, φ3 = φ2/h − ½ in ε-form and φ1 = e^{−h} − 1,
 * φ2 = φ1/h + 1, φ3 = φ2/h − ½ in data form, h = λ_t − λ_s:
 * ε: {@code x_t = (α_t/α_s) x − σ_t (φ1 m_s + φ2 D1 + φ3 D2)}; data: {@code x_t = (σ_t/σ_s) x − α_t (φ1 m_s − φ2 D1
 * + φ3 D2)}, where m is the model value (ε or x0) and D1, D2 its divided-difference estimates. The
 * "midpoint" variants (the reference's {@code solver_type="dpmsolver"}) replace the φ2 term of order 2 by
 * ½φ1 D1 and drop the φ3 term of order 3, as LuChengTHU's {@code dpm_solver_pytorch.py}.
 *
 * <p>The step to σ = 0 is always first order and returns α·x0 (λ = ∞ there).
 */
final class DpmUpdates {
  private DpmUpdates() {}

  /** The model value of a solver in form {@code data}: x0 (DPM-Solver++) or ε (DPM-Solver). */
  static NDArray value(Eval e, boolean data) {
    return data ? e.x0() : e.eps();
  }

  /** φ1 of the form: e^h − 1 (ε) or e^{−h} − 1 (data). */
  private static double phi1(double h, boolean data) {
    return data ? Math.expm1(-h) : Math.expm1(h);
  }

  /** The linear part from s to t: (α_t/α_s) x (ε) or (σ_t/σ_s) x (data). */
  private static NDArray linear(NDArray x, Point s, Point t, boolean data) {
    return x.mul(data ? t.sigma() / s.sigma() : t.alpha() / s.alpha());
  }

  /** The scale of the model terms at t: σ_t (ε) or α_t (data). */
  private static double scale(Point t, boolean data) {
    return data ? t.alpha() : t.sigma();
  }

  /** DPM-Solver-1 from s to t with model value m at s; to σ = 0 the x0-estimate {@code α_t·x0}. */
  static NDArray first(NDArray x, Eval e, Point s, Point t, boolean data) {
    if (t.isData()) {
      return e.x0().mul(t.alpha());
    }
    double h = t.lambda() - s.lambda();
    return linear(x, s, t, data).sub(value(e, data).mul(scale(t, data) * phi1(h, data)));
  }

  /** First order from s to t given the model value m at s (t has σ &gt; 0). */
  static NDArray first(NDArray x, NDArray m, Point s, Point t, boolean data) {
    double h = t.lambda() - s.lambda();
    return linear(x, s, t, data).sub(m.mul(scale(t, data) * phi1(h, data)));
  }

  /**
   * Singlestep DPM-Solver-2 from s to t given the model values at s and at s1 (λ_s1 = λ_s + r1 h): midpoint
   * {@code first − (1/(2 r1)) c φ1 (m_1 − m_s)}, Taylor {@code first ∓ (1/r1) c φ2 (m_1 − m_s)} (− for ε, + for
   * data, where φ2 = φ1/h ∓ 1), c = σ_t or α_t.
   */
  static NDArray second(NDArray x, NDArray ms, NDArray m1, Point s, Point s1, Point t, boolean taylor,
      boolean data) {
    double h = t.lambda() - s.lambda();
    double r1 = (s1.lambda() - s.lambda()) / h;
    double p1 = phi1(h, data);
    double c = scale(t, data);
    NDArray base = first(x, ms, s, t, data);
    if (!taylor) {
      return base.sub(m1.sub(ms).mul(0.5 / r1 * c * p1));
    }
    double p2 = data ? p1 / h + 1 : p1 / h - 1;
    return data ? base.add(m1.sub(ms).mul(c * p2 / r1)) : base.sub(m1.sub(ms).mul(c * p2 / r1));
  }

  /**
   * The second intermediate state of singlestep DPM-Solver-3 at s2 (λ_s2 = λ_s + r2 h), from the model values at
   * s and s1: {@code first(s → s2) ∓ (r2/r1) c_2 φ22 (m_1 − m_s)}, φ22 = φ1(r2 h)/(r2 h) ∓ 1.
   */
  static NDArray thirdIntermediate(NDArray x, NDArray ms, NDArray m1, Point s, Point s1, Point s2, boolean data) {
    double h2 = s2.lambda() - s.lambda();
    double q = (s2.lambda() - s.lambda()) / (s1.lambda() - s.lambda());
    double p12 = phi1(h2, data);
    double p22 = data ? p12 / h2 + 1 : p12 / h2 - 1;
    NDArray base = first(x, ms, s, s2, data);
    NDArray d = m1.sub(ms).mul(q * scale(s2, data) * p22);
    return data ? base.add(d) : base.sub(d);
  }

  /**
   * Singlestep DPM-Solver-3 from s to t given the model values at s, s1, s2 (Alg. 2 of both papers): midpoint
   * {@code first ∓ (1/r2) c φ2 (m_2 − m_s)}; Taylor with {@code D1 = (r2 D1_0 − r1 D1_1)/(r2 − r1)},
   * {@code D2 = 2(D1_1 − D1_0)/(r2 − r1)}, {@code first ∓ c φ2 D1 − c φ3 D2}.
   */
  static NDArray third(NDArray x, NDArray ms, NDArray m1, NDArray m2, Point s, Point s1, Point s2, Point t,
      boolean taylor, boolean data) {
    double h = t.lambda() - s.lambda();
    double r1 = (s1.lambda() - s.lambda()) / h;
    double r2 = (s2.lambda() - s.lambda()) / h;
    double p1 = phi1(h, data);
    double p2 = data ? p1 / h + 1 : p1 / h - 1;
    double c = scale(t, data);
    NDArray base = first(x, ms, s, t, data);
    if (!taylor) {
      NDArray d = m2.sub(ms).mul(c * p2 / r2);
      return data ? base.add(d) : base.sub(d);
    }
    double p3 = p2 / h - 0.5;
    NDArray d10 = m1.sub(ms).div(r1);
    NDArray d11 = m2.sub(ms).div(r2);
    NDArray d1 = d10.mul(r2).sub(d11.mul(r1)).div(r2 - r1);
    NDArray d2 = d11.sub(d10).mul(2 / (r2 - r1));
    NDArray withD1 = data ? base.add(d1.mul(c * p2)) : base.sub(d1.mul(c * p2));
    return withD1.sub(d2.mul(c * p3));
  }

  /**
   * Multistep DPM-Solver-2 from p0 (newest) with the previous point p1: r0 = h0/h, {@code D1 = (m_0 − m_1)/r0};
   * midpoint {@code first − ½ c φ1 D1}, Taylor {@code first ∓ c φ2 D1}.
   */
  static NDArray multistep2(NDArray x, NDArray m0, NDArray m1, Point p0, Point p1, Point t, boolean taylor,
      boolean data) {
    double h = t.lambda() - p0.lambda();
    double r0 = (p0.lambda() - p1.lambda()) / h;
    double p = phi1(h, data);
    double c = scale(t, data);
    NDArray base = first(x, m0, p0, t, data);
    NDArray d1 = m0.sub(m1).div(r0);
    if (!taylor) {
      return base.sub(d1.mul(0.5 * c * p));
    }
    double p2 = data ? p / h + 1 : p / h - 1;
    return data ? base.add(d1.mul(c * p2)) : base.sub(d1.mul(c * p2));
  }

  /**
   * Multistep DPM-Solver-3 from p0 with previous points p1, p2: {@code D1 = D1_0 + r0/(r0+r1)(D1_0 − D1_1)},
   * {@code D2 = (D1_0 − D1_1)/(r0+r1)}; {@code first ∓ c φ2 D1 − c φ3 D2}. As in the reference (and
   * diffusers), D2 ≈ h²m''/2 while the Taylor term is h²φ3·m'', so the local error is O(h³) and the method
   * converges with order 2, not 3 (see DpmSolverTest); reproduced as published.
   */
  static NDArray multistep3(NDArray x, NDArray m0, NDArray m1, NDArray m2, Point p0, Point p1, Point p2, Point t,
      boolean data) {
    double h = t.lambda() - p0.lambda();
    double r0 = (p0.lambda() - p1.lambda()) / h;
    double r1 = (p1.lambda() - p2.lambda()) / h;
    double p = phi1(h, data);
    double ph2 = data ? p / h + 1 : p / h - 1;
    double ph3 = ph2 / h - 0.5;
    double c = scale(t, data);
    NDArray d10 = m0.sub(m1).div(r0);
    NDArray d11 = m1.sub(m2).div(r1);
    NDArray d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
    NDArray d2 = d10.sub(d11).div(r0 + r1);
    NDArray base = first(x, m0, p0, t, data);
    NDArray withD1 = data ? base.add(d1.mul(c * ph2)) : base.sub(d1.mul(c * ph2));
    return withD1.sub(d2.mul(c * ph3));
  }
}
