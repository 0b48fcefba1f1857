package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PhiTest {
  @Test
  void matchesClosedFormsOnBothSidesOfTheSeriesSwitch() {
    // Series for |z| < 1, recurrence otherwise; closed forms lose at most ~1e-14 here.
    for (double z : new double[] {-7, -1.5, -1 - 1e-9, -1 + 1e-9, -0.3, 0.3, 1 - 1e-9, 1 + 1e-9, 2.5}) {
      assertEquals(Math.exp(z), Phi.phi(0, z), 1e-15 * Math.exp(Math.abs(z)));
      assertEquals(Math.expm1(z) / z, Phi.phi(1, z), 1e-14, "φ_1 at " + z);
      assertEquals((Math.expm1(z) - z) / (z * z), Phi.phi(2, z), 1e-13, "φ_2 at " + z);
      assertEquals((Math.expm1(z) - z - z * z / 2) / (z * z * z), Phi.phi(3, z), 1e-12, "φ_3 at " + z);
    }
  }

  @Test
  void limitsAtZeroAreInverseFactorials() {
    assertEquals(1.0, Phi.phi(1, 1e-12), 1e-12);
    assertEquals(0.5, Phi.phi(2, -1e-12), 1e-12);
    assertEquals(1.0 / 6, Phi.phi(3, 1e-12), 1e-12);
    assertEquals(1.0 / 24, Phi.phi(4, 0), 1e-17);
  }
}
