package org.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.junit.jupiter.api.Test;

/** Step counts that cannot be allocated, grids that collapse, and DDPM betas out of order. */
class GridLimitsTest {
  private static final NoiseProcess EDM = Processes.byId("edm");

  private static GridSpec[] specs() {
    return new GridSpec[] {new GridSpec.Karras(Double.NaN, Double.NaN, 7), new GridSpec.Exponential(Double.NaN, Double.NaN),
        new GridSpec.PolyExponential(Double.NaN, Double.NaN, 1), new GridSpec.VpTime(0.1, 20, 1e-3),
        new GridSpec.UniformLambda(Double.NaN, Double.NaN)};
  }

  @Test
  void hugeStepCountsAreRefusedNamingTheLimit() {
    for (int steps : new int[] {Integer.MAX_VALUE, 400_000_000, GridSpec.MAX_STEPS + 1, 0, -5}) {
      for (GridSpec g : specs()) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.build(EDM, steps));
        assertEquals("steps must lie in [1, 1000000], got " + steps, e.getMessage());
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new GridSpec.Timesteps("trailing", 0, false).build(DiscreteDdpm.DEFAULT, steps));
      assertTrue(e.getMessage().contains("1000000"), e.getMessage());
    }
    assertEquals(GridSpec.MAX_STEPS, new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(EDM, GridSpec.MAX_STEPS).steps());
  }

  @Test
  void tinySigmaMinNoLongerCollapsesKarras() {
    // a + 1·(b − a) rounded to 0: the last σ > 0 became 0 and the grid "did not strictly decrease".
    for (String proc : new String[] {"edm", "ve"}) {
      Grid g = new GridSpec.Karras(1e-300, Double.NaN, 7).build(Processes.byId(proc), 18);
      assertEquals(1e-300, g.sigma(17));
      assertEquals(0, g.sigma(18));
    }
    Grid g = new GridSpec.Karras(1e-300, Double.NaN, 7).build(EDM, 1000);
    assertEquals(1e-300, g.sigma(999));
  }

  @Test
  void collapsingGridsNameTheirOptionsAndWhatToTry() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new GridSpec.PolyExponential(Double.NaN, Double.NaN, 100).build(EDM, 18));
    assertTrue(e.getMessage().contains("polyexponential grid") && e.getMessage().contains("rho 100")
        && e.getMessage().contains("lower --rho"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new GridSpec.Karras(1, Math.nextUp(1.0), 7).build(EDM, 10));
    assertTrue(e.getMessage().contains("karras grid with sigma-min 1.0, sigma-max 1.0000000000000002, rho 7.0 and 10 steps")
        && e.getMessage().contains("--sigma-min"),
        e.getMessage());
  }

  @Test
  void ddpmBetasMustIncreaseInsideZeroOne() {
    String[][] bad = {{"0.5", "0.1", "beta-start (0.5) must be <= beta-end (0.1)"}, {"0", "0.02", "beta-start must lie in (0, 1)"},
        {"1e-4", "1.5", "beta-end must lie in (0, 1)"}, {"NaN", "0.02", "beta-start"}};
    for (String sched : new String[] {"linear", "scaled_linear"}) {
      for (String[] b : bad) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> DiscreteDdpm.of(1000, sched, Double.parseDouble(b[0]), Double.parseDouble(b[1])));
        assertTrue(e.getMessage().contains(b[2]), e.getMessage());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> DiscreteDdpm.of(Integer.MAX_VALUE, "linear", 1e-4, 0.02));
  }
}
