package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class LmsTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  /**
   * k-diffusion {@code get_sigmas_karras(10, 0.002, 80)} as computed with numpy 64-bit linspace, and
   * {@code linear_multistep_coeff} values for it from scipy 1.17.1 {@code integrate.quad(ℓ_j, σ_i, σ_{i+1},
   * epsrel=1e-4)} (the quadrature k-diffusion uses), printed with repr.
   */
  private static final double[] KARRAS10 = {80.0, 42.41518931851267, 21.10867673619376, 9.723201355260132,
      4.066123602953759, 1.501741979068008, 0.46997905799774714, 0.11663856352517864, 0.020435334553438746,
      0.002000000000000003, 0.0};

  @Test
  void coefficientsMatchScipyQuadrature() {
    double[][] golden = {
      {-8.053237833556851, 3.0261926988841017, -0.6870673768882356, 0.05703475925461102}, // i = 3, order 4
      {-0.44400736798303314, 0.10435919816694218, -0.014397702975754883, 0.0007053783192773908}, // i = 6
      {-0.0021318317845480444, 0.00013653183898305096, -4.761743826437472e-06, 6.16893914279618e-08}, // i = 9
      {-15.920133693373103, 5.380830715304623, -0.8461724028651478}, // i = 2, order 3
    };
    int[] steps = {3, 6, 9, 2};
    for (int r = 0; r < golden.length; r++) {
      double[] c = Lms.coefficients(KARRAS10, steps[r], golden[r].length);
      for (int j = 0; j < c.length; j++) {
        double tol = 1e-12 * Math.max(1, Math.abs(golden[r][j]));
        assertEquals(golden[r][j], c[j], tol, "step " + steps[r] + " coefficient " + j);
      }
    }
  }

  @Test
  void coefficientsIntegratePolynomialsExactly() {
    // Σ_j c_j p(σ_{i−j}) = ∫_{σ_i}^{σ_{i+1}} p for every polynomial p of degree < q.
    for (int q = 1; q <= 4; q++) {
      for (int i = q - 1; i < KARRAS10.length - 1; i++) {
        double[] c = Lms.coefficients(KARRAS10, i, q);
        for (int deg = 0; deg < q; deg++) {
          double quad = 0;
          for (int j = 0; j < q; j++) {
            quad += c[j] * Math.pow(KARRAS10[i - j], deg);
          }
          double exact = (Math.pow(KARRAS10[i + 1], deg + 1) - Math.pow(KARRAS10[i], deg + 1)) / (deg + 1);
          assertEquals(exact, quad, 1e-12 * Math.pow(80, deg + 1), "q=" + q + " i=" + i + " deg=" + deg);
        }
      }
    }
  }

  @Test
  void orderMatchesParameter() {
    // k-diffusion's warm-up starts with an Euler step, whose O(h²) local error caps the asymptotic order
    // at 2; it scales like h²·s²/σ_max³ (curvature of the Gaussian flow), so with σ_max = 80 ≫ s = 0.5
    // the nominal order shows over the step counts used here (measured 0.99, 1.95, 2.90, 3.84).
    double[] tol = {0.1, 0.1, 0.25, 0.25};
    for (int q = 1; q <= 4; q++) {
      double p = Oracle.order(new Lms(q), g, n -> Oracle.geometric(Edm.DEFAULT, 80, 0.5, n), 80, 160);
      assertEquals(q, p, tol[q - 1], "lms order " + q);
    }
  }

  @Test
  void orderOneIsEuler() {
    GaussianMixture gm = Oracle.mixture();
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 9).sigmas());
    Oracle.Run lms = OdeChecks.run(new Lms(1), gm, grid, 8);
    Oracle.Run euler = OdeChecks.run(new Euler(), gm, grid, 8);
    assertTrue(Oracle.maxAbs(lms.x(), euler.x()) < 1e-14, "lms(1) vs euler " + Oracle.maxAbs(lms.x(), euler.x()));
    assertEquals(euler.nfe(), lms.nfe());
  }

  @Test
  void warmUpUsesLowerOrderOnTheFirstSteps() {
    // k-diffusion: step i uses order min(i + 1, order), so on a grid of k ≤ order steps every order ≥ k
    // gives the same result.
    GaussianMixture gm = Oracle.mixture();
    for (int k = 1; k <= 3; k++) {
      Grid grid = Oracle.geometric(Edm.DEFAULT, 80, 0.5, k);
      double[] ref = OdeChecks.run(new Lms(k), gm, grid, 6).x();
      for (int q = k + 1; q <= 4; q++) {
        double[] x = OdeChecks.run(new Lms(q), gm, grid, 6).x();
        assertTrue(Oracle.maxAbs(ref, x) < 1e-14, "lms(" + q + ") vs lms(" + k + ") on " + k + " steps");
      }
    }
  }

  @Test
  void mixtureConvergesToExactFlowOnKarrasGrid() {
    GaussianMixture gm = Oracle.mixture();
    double e10 = Oracle.error(new Lms(4), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10), 32);
    double e40 = Oracle.error(new Lms(4), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 40), 32);
    assertTrue(e40 < e10 / 8, "lms error should shrink from 10 to 40 steps: " + e10 + " -> " + e40);
  }

  @Test
  void nfeIsOnePerStep() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 18);
    assertEquals(18, OdeChecks.run(new Lms(4), g, grid, 3).nfe());
  }

  @Test
  void badOrderFailsNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("lms", Map.of("order", "5")));
    assertTrue(e.getMessage().contains("5") && e.getMessage().contains("[1, 4]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Lms(0));
    assertEquals(new Lms(2), SamplerRegistry.create("lms", Map.of("order", "2")));
    assertEquals(new Lms(4), SamplerRegistry.create("lms", Map.of()));
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    OdeChecks.assertFiniteInFloat32(new Lms(4), g);
  }

  @Test
  void memoryStaysFlat() {
    OdeChecks.assertMemoryFlat(new Lms(4), Oracle.mixture());
  }
}
