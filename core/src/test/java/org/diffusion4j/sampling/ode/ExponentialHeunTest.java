package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class ExponentialHeunTest {
  private final GaussianMixture mix = Oracle.mixture();

  @Test
  void convergesWithOrderTwoOnVpAndEdm() {
    assertEquals(2.0, Oracle.order(new ExponentialHeun(), mix, n -> Oracle.geometric(VpLinear.DEFAULT, 80, 0.05, n),
        40, 80), 0.2);
    assertEquals(2.0, Oracle.order(new ExponentialHeun(), mix, n -> Oracle.geometric(Edm.DEFAULT, 80, 0.05, n),
        40, 80), 0.2);
  }

  @Test
  void withoutLinearPartItIsHeunInLambda() {
    // EDM: α ≡ 1, so L ≡ 0 and dx/dλ = −σ ε̂ = D − x; one Heun step in λ by hand.
    Grid g = Grid.ofSigmas(Edm.DEFAULT, 3.0, 1.2);
    double[] x = {0.7, -2.1, 1.4, 0.3};
    double h = Math.log(3.0 / 1.2);
    double[] d0 = mix.denoise(x, 3.0);
    double[] pred = new double[4];
    for (int i = 0; i < 4; i++) {
      pred[i] = x[i] + h * (d0[i] - x[i]);
    }
    double[] d1 = mix.denoise(pred, 1.2);
    double[] got = Oracle.run(new ExponentialHeun(), mix.denoiser(), g, x, 2, DataType.FLOAT64, NoiseSource.NONE).x();
    for (int i = 0; i < 4; i++) {
      double want = x[i] + h / 2 * ((d0[i] - x[i]) + (d1[i] - pred[i]));
      assertEquals(want, got[i], 1e-12);
    }
  }

  @Test
  void phiFunctionsAreContinuousAtZero() {
    for (double e : new double[] {1e-6, 1e-5, 1e-4, 2e-4}) {
      assertEquals(Math.expm1(e) / e, ExponentialHeun.c1(e), 1e-12);
    }
    // Both sides of the series switch agree (the closed form loses digits below it).
    assertEquals(ExponentialHeun.c2(0.99999e-4), ExponentialHeun.c2(1.00001e-4), 1e-9);
    assertEquals(ExponentialHeun.c1(0.99999e-5), ExponentialHeun.c1(1.00001e-5), 2e-10);
    assertEquals((Math.expm1(0.1) - 0.1) / 0.01, ExponentialHeun.c2(0.1), 1e-14);
    assertEquals(1, ExponentialHeun.c1(0), 0);
    assertEquals(0.5, ExponentialHeun.c2(0), 0);
    assertTrue(Double.isFinite(ExponentialHeun.c2(-40)));
  }

  @Test
  void lastStepToZeroIsFinite() {
    Grid g = Grid.ofSigmas(VpLinear.DEFAULT, 80, 5, 0.5, 0);
    double e = Oracle.error(new ExponentialHeun(), mix, g, 8);
    assertTrue(Double.isFinite(e), "error " + e);
  }
}
