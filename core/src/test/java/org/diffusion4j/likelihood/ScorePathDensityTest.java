package org.diffusion4j.likelihood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.analytic.GaussianMixture;
import org.junit.jupiter.api.Test;

class ScorePathDensityTest {
  @Test
  void recoversAnExactMixturesLogDensityAlongEitherPath() {
    GaussianMixture gm = GaussianMixture.demo2d();
    HostDenoiser den = HostDenoiser.of(gm);
    double sigma = 0.1;
    double[] ref = {0.1, -0.2};
    double[] x = new double[2 * 60];
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble(-2.5, 2.5);
    }
    double[] want = gm.logDensity(x, sigma);
    double lref = gm.logDensity(ref, sigma)[0];
    double[] straight = ScorePathDensity.straight(den, sigma, ref, x, 8);
    double[] axes = ScorePathDensity.alongAxes(den, sigma, ref, x, 8);
    double worst = 0;
    for (int i = 0; i < 60; i++) {
      worst = Math.max(worst, Math.abs(straight[i] - (want[i] - lref)));
      assertEquals(want[i] - lref, straight[i], 1e-6 * (1 + Math.abs(want[i] - lref)), "point " + i);
      assertEquals(want[i] - lref, axes[i], 1e-6 * (1 + Math.abs(want[i] - lref)), "point " + i);
    }
    assertTrue(worst > 0, "the recovery is a computation, not a copy");
    // Too coarse a rule is visibly wrong: the test would catch a broken quadrature.
    double[] coarse = ScorePathDensity.straight(den, 0.02, ref, x, 1);
    double[] fine = gm.logDensity(x, 0.02);
    double lr = gm.logDensity(ref, 0.02)[0];
    double err = 0;
    for (int i = 0; i < 60; i++) {
      err = Math.max(err, Math.abs(coarse[i] - (fine[i] - lr)));
    }
    assertTrue(err > 1e-3, "one panel at σ = 0.02 should not be exact: " + err);
  }

  @Test
  void aNonConservativeFieldIsPathDependent() {
    // D(x) = x + σ²·(−x₁, x₀): the score (−x₁, x₀) is a pure rotation (curl 2), no gradient field.
    double sigma = 0.5;
    HostDenoiser rot = new HostDenoiser() {
      @Override
      public int dim() {
        return 2;
      }

      @Override
      public double[] denoise(double[] x, double[] s) {
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i += 2) {
          o[i] = x[i] - sigma * sigma * x[i + 1];
          o[i + 1] = x[i + 1] + sigma * sigma * x[i];
        }
        return o;
      }
    };
    double[] x = {1, 1};
    double[] ref = {0, 0};
    // Straight: s ⟂ the radial path, so 0; axis path: leg 2 from (1,0) to (1,1) picks up s₁ = x₀ = 1.
    assertEquals(0, ScorePathDensity.straight(rot, sigma, ref, x, 1)[0], 1e-12);
    assertEquals(1, ScorePathDensity.alongAxes(rot, sigma, ref, x, 1)[0], 1e-12);
  }

  @Test
  void badInputsAreRefused() {
    HostDenoiser den = HostDenoiser.of(GaussianMixture.demo2d());
    assertThrows(IllegalArgumentException.class, () -> ScorePathDensity.straight(den, 0, new double[2], new double[2], 1));
    assertThrows(IllegalArgumentException.class, () -> ScorePathDensity.straight(den, 0.1, new double[3], new double[2], 1));
    assertThrows(IllegalArgumentException.class, () -> ScorePathDensity.straight(den, 0.1, new double[2], new double[3], 1));
    assertThrows(IllegalArgumentException.class,
        () -> ScorePathDensity.straight(den, 0.1, new double[2], new double[] {Double.NaN, 0}, 1));
    assertThrows(IllegalArgumentException.class, () -> ScorePathDensity.alongAxes(den, 0.1, new double[2], new double[2], 0));
  }
}
