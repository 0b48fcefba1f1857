package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.StepInfo;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class Rk45Test {
  private final GaussianMixture gm = Oracle.mixture();
  private final Grid geo = Oracle.geometric(Edm.DEFAULT, 80, 0.002, 10);

  @Test
  void errorAgainstExactFlowShrinksWithTolAndHonoursIt() {
    // Global RMS error in x̂ at σ = 0.002 against ExactFlow (tol 1e-11); stated factor: ≤ 10·tol
    // (measured err/tol ≈ 1.4, 0.6, 0.5 for tol = 1e-4, 1e-6, 1e-8).
    double[] tols = {1e-4, 1e-6, 1e-8};
    double[] err = new double[tols.length];
    int[] nfe = new int[tols.length];
    for (int k = 0; k < tols.length; k++) {
      Rk45 s = new Rk45(tols[k], tols[k], 0);
      err[k] = Oracle.error(s, gm, geo, 32);
      nfe[k] = OdeChecks.run(s, gm, geo, 32).nfe();
      assertTrue(err[k] <= 10 * tols[k], "rk45 tol " + tols[k] + ": error " + err[k]);
      if (k > 0) {
        assertTrue(err[k] < err[k - 1] / 10, "error should shrink ≥10x per 100x tol: " + err[k - 1] + " -> " + err[k]);
        assertTrue(nfe[k] > nfe[k - 1], "tighter tol should cost more NFE: " + nfe[k - 1] + " -> " + nfe[k]);
      }
    }
  }

  @Test
  void nfeIsOnePlusFirstStepEstimatePlusSixPerAttempt() {
    // f at σ_0, one evaluation for Hairer–Wanner's first step, then 6 per attempted sub-step (FSAL); the
    // Euler step to 0 reuses the last stage. With h-init given, no estimate.
    Grid toZero = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10);
    for (Grid grid : new Grid[] {geo, toZero}) {
      int auto = OdeChecks.run(new Rk45(), gm, grid, 8).nfe();
      int given = OdeChecks.run(new Rk45(1e-4, 1e-4, 1.0), gm, grid, 8).nfe();
      assertEquals(0, (auto - 2) % 6, "auto h-init nfe " + auto);
      assertEquals(0, (given - 1) % 6, "given h-init nfe " + given);
      assertTrue(auto >= 2 + 6 * (grid.endsAtZero() ? 9 : 10), "at least one sub-step per interval: " + auto);
    }
    // A single step to 0 is one Euler step.
    assertEquals(1, OdeChecks.run(new Rk45(), gm, Grid.ofSigmas(Edm.DEFAULT, 80, 0), 8).nfe());
  }

  @Test
  void givenFirstStepGivesTheSameSolutionWithinTolerance() {
    double auto = Oracle.error(new Rk45(1e-7, 1e-7, 0), gm, geo, 16);
    double given = Oracle.error(new Rk45(1e-7, 1e-7, 0.01), gm, geo, 16);
    assertTrue(auto < 1e-6 && given < 1e-6, "auto " + auto + ", h-init 0.01 " + given);
  }

  @Test
  void listenersSeeEveryGridPoint() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 7);
    List<double[]> seen = new ArrayList<>();
    try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
      var x = m.create(Oracle.prior(grid, Oracle.normals(3, 2)), new ai.djl.ndarray.types.Shape(3, 2));
      new Rk45().sample(gm.denoiser(), grid, x, NoiseSource.NONE, (StepInfo info) -> {
        assertTrue(info.denoised() != null && info.xHat() != null);
        seen.add(new double[] {info.step(), info.sigma(), info.sigmaNext()});
      }).x().close();
    }
    assertEquals(grid.steps(), seen.size());
    for (int i = 0; i < seen.size(); i++) {
      assertEquals(i, seen.get(i)[0]);
      assertEquals(grid.sigma(i), seen.get(i)[1]);
      assertEquals(grid.sigma(i + 1), seen.get(i)[2]);
    }
  }

  @Test
  void gaussianMatchesClosedFormOnAGridEndingAtZero() {
    // Error floor of the Euler step from σ_min = 1e-4 to 0 is ~σ_min²/(2s) = 1e-8.
    GaussianMixture g = Oracle.gaussian(2);
    double e = Oracle.error(new Rk45(1e-9, 1e-9, 0), g, new GridSpec.Karras(1e-4, 80, 7).build(Edm.DEFAULT, 12), 16);
    assertTrue(e < 1e-7, "rk45 gaussian to 0: " + e);
  }

  @Test
  void lastStepToZeroIsEuler() {
    OdeChecks.assertLastStepIsEuler(new Rk45(), gm);
  }

  @Test
  void parametersAreCheckedAndParsed() {
    assertEquals(new Rk45(), SamplerRegistry.create("rk45", Map.of()));
    assertEquals(new Rk45(1e-6, 0, 0.5), SamplerRegistry.create("rk45", Map.of("rtol", "1e-6", "atol", "0",
        "h-init", "0.5")));
    String[][] bad = {{"rtol", "0", "got 0"}, {"atol", "-1", "got -1"}, {"h-init", "-2", "got -2"}};
    for (String[] b : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SamplerRegistry.create("rk45", Map.of(b[0], b[1])));
      assertTrue(e.getMessage().contains(b[0]) && e.getMessage().contains(b[2]), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new Rk45(Double.NaN, 1e-4, 0));
  }

  @Test
  void memoryStaysFlat() {
    OdeChecks.assertMemoryFlat(new Rk45(), gm);
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    OdeChecks.assertFiniteInFloat32(new Rk45(), Oracle.gaussian(2));
    double[] x = Oracle.run(new Rk45(), gm.denoiser(), geo, Oracle.prior(geo, Oracle.normals(5, 2)), 2,
        DataType.FLOAT32, NoiseSource.NONE).x();
    for (double v : x) {
      assertTrue(Double.isFinite(v));
    }
  }
}
