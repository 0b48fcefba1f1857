package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.junit.jupiter.api.Test;

/**
 * The closed-form Gaussian-to-Gaussian marginal velocity equals the flow-matching target's definition
 * {@code v(x) = E[u_t(x | z) p_t(x | z)] / E[p_t(x | z)]} estimated by Monte Carlo over the conditional path.
 */
class GaussianFlowTest {
  static final double[] M0 = {0.5, -1};
  static final double S0 = 0.8;
  static final GaussianMixture TARGET = GaussianMixture.gaussian(new double[] {2, 1}, 0.6);

  /** Two-sided MC (z = (x0, x1, and bridge noise σ > 0 gives p_t(x|z) a density). */
  private static double[] twoSided(ConditionalPath p, double[] x, double t, int draws, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double a = p.a(t);
    double b = p.b(t);
    double s = p.s(t);
    double num0 = 0;
    double num1 = 0;
    double den = 0;
    for (int k = 0; k < draws; k++) {
      double[] x0 = {M0[0] + S0 * rng.nextGaussian(), M0[1] + S0 * rng.nextGaussian()};
      double[] x1 = {2 + 0.6 * rng.nextGaussian(), 1 + 0.6 * rng.nextGaussian()};
      double d2 = 0;
      double[] mu = new double[2];
      for (int j = 0; j < 2; j++) {
        mu[j] = a * x0[j] + b * x1[j];
        d2 += (x[j] - mu[j]) * (x[j] - mu[j]);
      }
      double w = Math.exp(-0.5 * d2 / (s * s));
      // u(x | z) = a' x0 + b' x1 + (s'/s)(x − μ_t(z)).
      num0 += w * (p.da(t) * x0[0] + p.db(t) * x1[0] + p.ds(t) / s * (x[0] - mu[0]));
      num1 += w * (p.da(t) * x0[1] + p.db(t) * x1[1] + p.ds(t) / s * (x[1] - mu[1]));
      den += w;
    }
    return new double[] {num0 / den, num1 / den};
  }

  /** One-sided MC (z = x1, p_t(x | x1) = N(b x1 + a m0, a² s0²), u = b' x1 + (a'/a)(x − b x1 − a m0) + a' m0). */
  private static double[] oneSided(ConditionalPath p, double[] x, double t, int draws, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double a = p.a(t);
    double b = p.b(t);
    double num0 = 0;
    double num1 = 0;
    double den = 0;
    for (int k = 0; k < draws; k++) {
      double[] x1 = {2 + 0.6 * rng.nextGaussian(), 1 + 0.6 * rng.nextGaussian()};
      double d2 = 0;
      double[] mu = new double[2];
      for (int j = 0; j < 2; j++) {
        mu[j] = b * x1[j] + a * M0[j];
        d2 += (x[j] - mu[j]) * (x[j] - mu[j]);
      }
      double w = Math.exp(-0.5 * d2 / (a * a * S0 * S0));
      num0 += w * (p.db(t) * x1[0] + p.da(t) * M0[0] + p.da(t) / a * (x[0] - mu[0]));
      num1 += w * (p.db(t) * x1[1] + p.da(t) * M0[1] + p.da(t) / a * (x[1] - mu[1]));
      den += w;
    }
    return new double[] {num0 / den, num1 / den};
  }

  @Test
  void closedFormEqualsTheMonteCarloTarget() {
    // Points within about one marginal std of the marginal mean (far out, few draws carry the weight).
    double[][] offsets = {{0, 0}, {0.5, -0.3}, {-0.4, 0.6}};
    double[] times = {0.2, 0.5, 0.8};
    ConditionalPath[] twoSided = {new ConditionalPath.Linear(0.4), new ConditionalPath.BrownianBridge(0.8)};
    ConditionalPath[] oneSided = {new ConditionalPath.LipmanOt(0.01), new ConditionalPath.Trigonometric(),
        new ConditionalPath.Linear(0)};
    for (double t : times) {
      for (double[] o : offsets) {
        for (ConditionalPath p : twoSided) {
          double[] x = {p.a(t) * M0[0] + p.b(t) * 2 + o[0], p.a(t) * M0[1] + p.b(t) * 1 + o[1]};
          double[] exact = GaussianFlow.marginal(M0, S0, TARGET, p).velocity(x, 1, t);
          double[] mc = twoSided(p, x, t, 400_000, 11);
          // Tolerance 0.05: the effective sample size of the weighted estimate is ≥ ~10⁴ here.
          assertEquals(exact[0], mc[0], 0.05, p + " t " + t);
          assertEquals(exact[1], mc[1], 0.05, p + " t " + t);
        }
        for (ConditionalPath p : oneSided) {
          double[] x = {p.a(t) * M0[0] + p.b(t) * 2 + o[0], p.a(t) * M0[1] + p.b(t) * 1 + o[1]};
          double[] exact = GaussianFlow.marginal(M0, S0, TARGET, p).velocity(x, 1, t);
          double[] mc = oneSided(p, x, t, 200_000, 12);
          assertEquals(exact[0], mc[0], 0.03, p + " t " + t);
          assertEquals(exact[1], mc[1], 0.03, p + " t " + t);
        }
      }
    }
  }

  @Test
  void theGaussianFlowTransportsTheSourceOntoTheTarget() {
    // x(1) = m1 + (s1/s0)(x(0) − m0) for the linear path (the flow of FM-02's Ψ).
    VelocityField v = GaussianFlow.marginal(M0, S0, TARGET, new ConditionalPath.Linear(0));
    double[] x0 = {1.3, -0.2, -0.4, -1.7};
    double[] x1 = FlowOde.integrate(v, x0, 2, 200, FlowOde.Method.RK4);
    for (int i = 0; i < 4; i++) {
      double m1 = i % 2 == 0 ? 2 : 1;
      assertEquals(m1 + 0.6 / S0 * (x0[i] - M0[i % 2]), x1[i], 1e-8);
    }
    // Not straight: x(t) − μ(t) = (σ(t)/s0)(x0 − m0), σ(t)² = (1 − t)² s0² + t² s1², so per point
    // S = ‖x0 − m0‖²/s0² ∫ (σ'(t) − (s1 − s0))² dt.
    FlowOde.Paths p = FlowOde.measure(v, x0, 2, 100, FlowOde.Method.RK4);
    double integral = 0;
    int q = 20000;
    for (int k = 0; k < q; k++) {
      double t = (k + 0.5) / q;
      double sig = Math.sqrt((1 - t) * (1 - t) * S0 * S0 + t * t * 0.36);
      double dsig = (-(1 - t) * S0 * S0 + t * 0.36) / sig;
      integral += (dsig - (0.6 - S0)) * (dsig - (0.6 - S0)) / q;
    }
    double z2 = 0;
    for (int i = 0; i < 4; i++) {
      z2 += (x0[i] - M0[i % 2]) * (x0[i] - M0[i % 2]);
    }
    assertEquals(z2 / 2 / (S0 * S0) * integral, p.straightness(), 1e-6);
    assertEquals(p.kineticEnergy() - p.transportCost(), p.straightness(), 1e-6);
    assertThrows(IllegalArgumentException.class,
        () -> GaussianFlow.marginal(new double[] {0}, 1, TARGET, new ConditionalPath.Linear(0)));
  }
}
