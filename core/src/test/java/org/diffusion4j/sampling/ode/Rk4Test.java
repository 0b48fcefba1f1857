package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class Rk4Test {
  private final GaussianMixture g = Oracle.gaussian(2);

  @Test
  void isFourthOrder() {
    double p = Oracle.order(new Rk4(), g, n -> Oracle.geometric(Edm.DEFAULT, 20, 0.05, n), 10, 20);
    assertEquals(4.0, p, 0.25);
  }

  @Test
  void manyStepsMatchClosedFormGaussian() {
    // Geometric grid ending at σ_min > 0 (pure RK4) and a Karras grid ending at 0 (Euler last step from
    // σ_min = 1e-5, whose error is ~σ_min²/(2s) ≈ 1e-10).
    double eGeo = Oracle.error(new Rk4(), g, Oracle.geometric(Edm.DEFAULT, 80, 0.002, 800), 16);
    double eZero = Oracle.error(new Rk4(), g, new GridSpec.Karras(1e-5, 80, 7).build(Edm.DEFAULT, 800), 16);
    double eVp = Oracle.error(new Rk4(), g, Oracle.geometric(VpLinear.DEFAULT, 80, 0.002, 800), 16);
    assertTrue(eGeo < 1e-9, "rk4 800 geometric steps: rms error " + eGeo);
    assertTrue(eZero < 1e-9, "rk4 800 Karras steps to 0: rms error " + eZero);
    assertTrue(eVp < 1e-9, "rk4 800 geometric steps on VP: rms error " + eVp);
  }

  @Test
  void mixtureConvergesToExactFlow() {
    GaussianMixture gm = Oracle.mixture();
    double e10 = Oracle.error(new Rk4(), gm, Oracle.geometric(Edm.DEFAULT, 80, 0.01, 10), 32);
    double e40 = Oracle.error(new Rk4(), gm, Oracle.geometric(Edm.DEFAULT, 80, 0.01, 40), 32);
    assertTrue(e40 < e10 / 50, "rk4 mixture error should shrink ≫16x from 10 to 40 steps: " + e10 + " -> " + e40);
    assertTrue(e40 < 1e-4, "rk4 mixture 40 steps error " + e40);
  }

  @Test
  void nfeIsFourPerStepButOneOnTheLastStepToZero() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 18);
    assertEquals(4 * 17 + 1, OdeChecks.run(new Rk4(), g, grid, 3).nfe());
    assertEquals(4 * 12, OdeChecks.run(new Rk4(), g, Oracle.geometric(Edm.DEFAULT, 80, 0.01, 12), 3).nfe());
  }

  @Test
  void lastStepToZeroIsEuler() {
    OdeChecks.assertLastStepIsEuler(new Rk4(), Oracle.mixture());
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    OdeChecks.assertFiniteInFloat32(new Rk4(), g);
  }

  @Test
  void memoryStaysFlat() {
    OdeChecks.assertMemoryFlat(new Rk4(), Oracle.mixture());
  }
}
