package org.diffusion4j.analytic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class GaussianMixtureTest {
  private final GaussianMixture gm = Oracle.mixture();

  @Test
  void denoiserIsTweedieOfTheLogDensity() {
    // PAR-03: D(x̂; σ) = x̂ + σ² ∇ log p_σ(x̂), gradient by central differences of the exact log-density.
    double[] x = {0.3, -0.2, 1.1, 0.9, -1.5, 0.4};
    for (double sigma : new double[] {0.05, 0.4, 2.0}) {
      double[] d = gm.denoise(x, sigma);
      for (int i = 0; i < x.length; i++) {
        double h = 1e-5;
        double[] xp = x.clone();
        double[] xm = x.clone();
        xp[i] += h;
        xm[i] -= h;
        double g = (gm.logDensity(xp, sigma)[i / 2] - gm.logDensity(xm, sigma)[i / 2]) / (2 * h);
        assertEquals(x[i] + sigma * sigma * g, d[i], 1e-6, "σ=" + sigma + " coord " + i);
      }
    }
  }

  @Test
  void singleGaussianDenoiserIsTheClosedForm() {
    GaussianMixture g = Oracle.gaussian(1);
    double sigma = 0.8;
    double[] d = g.denoise(new double[] {2.0}, sigma);
    assertEquals((0.25 * 2.0 + 0.64 * 0.7) / (0.25 + 0.64), d[0], 1e-14);
  }

  @Test
  void exactFlowMatchesTheClosedFormGaussianFlow() {
    GaussianMixture g = Oracle.gaussian(2);
    double[] x = {30, -12, 4, 55};
    double[] ref = Oracle.gaussianFlow(g.means()[0], 0.5, x, 80, 0);
    double[] got = ExactFlow.solve(g, x, 80, 0);
    assertTrue(Oracle.maxAbs(ref, got) < 1e-8, "max diff " + Oracle.maxAbs(ref, got));
  }

  @Test
  void exactSamplesHaveTheMixtureMoments() {
    long[] seeds = new long[20000];
    for (int i = 0; i < seeds.length; i++) {
      seeds[i] = i;
    }
    double[] s = gm.sample(seeds, 0.3);
    double[] mean = gm.mean();
    double[] var = gm.variance(0.3);
    for (int j = 0; j < 2; j++) {
      double m = 0;
      double v = 0;
      for (int i = 0; i < seeds.length; i++) {
        m += s[2 * i + j];
      }
      m /= seeds.length;
      for (int i = 0; i < seeds.length; i++) {
        v += Math.pow(s[2 * i + j] - m, 2);
      }
      v /= seeds.length - 1;
      // 5 standard errors.
      assertEquals(mean[j], m, 5 * Math.sqrt(var[j] / seeds.length), "mean " + j);
      assertEquals(var[j], v, 5 * var[j] * Math.sqrt(2.0 / seeds.length) * 1.5, "variance " + j);
    }
  }

  @Test
  void jsonRoundTripsAndErrorsNameTheField() {
    GaussianMixture back = GaussianMixture.fromJson(gm.toJson());
    assertArrayEquals(gm.weights(), back.weights(), 0);
    assertArrayEquals(gm.stds(), back.stds(), 0);
    assertArrayEquals(gm.means()[2], back.means()[2], 0);
    var e = assertThrows(IllegalArgumentException.class, () -> GaussianMixture.fromJson("{\"type\":"));
    assertTrue(e.getMessage().startsWith("model JSON: malformed JSON"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> GaussianMixture.fromJson("{\"type\":\"gaussian-mixture\",\"weights\":[1],\"means\":[[0]],\"stds\":[-1]}"));
    assertTrue(e.getMessage().contains("stds[0]") && e.getMessage().contains("-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> GaussianMixture.fromJson("{\"type\":\"gaussian-mixture\",\"weights\":[1,1],\"means\":[[0]],\"stds\":[1]}"));
    assertTrue(e.getMessage().contains("2 weights"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> GaussianMixture.fromJson("{\"type\":\"mlp\"}"));
    assertTrue(e.getMessage().contains("gaussian-mixture"), e.getMessage());
  }
}
