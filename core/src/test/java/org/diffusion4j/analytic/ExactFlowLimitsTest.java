package org.diffusion4j.analytic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** The reference PF-ODE with point masses, huge stds and bounded checks; the mixture's input checks. */
class ExactFlowLimitsTest {

  private static double[] normals(int n, int d, double scale) {
    double[] e = Oracle.normals(n, d);
    for (int i = 0; i < e.length; i++) {
      e[i] *= scale;
    }
    return e;
  }

  @Test
  void aPointMassFlowsLinearlyOntoItsMeanFast() {
    // README's documented point mass: "stds": [0]. x̂(σ) = μ + (x̂₀ − μ)·σ/σ₀ exactly.
    GaussianMixture g = GaussianMixture.fromJson(
        "{\"type\":\"gaussian-mixture\",\"weights\":[1],\"means\":[[0.5,-1]],\"stds\":[0]}");
    double[] x = normals(2000, 2, 80);
    long t0 = System.nanoTime();
    double[] end = ExactFlow.solve(g, x, 80, 0);
    double[] mid = ExactFlow.solve(g, x, 80, 0.4);
    double secs = (System.nanoTime() - t0) / 1e9;
    assertTrue(secs < 30, "took " + secs + " s"); // the old solver hung for minutes
    for (int i = 0; i < end.length; i++) {
      double mu = i % 2 == 0 ? 0.5 : -1;
      assertEquals(mu, end[i], 1e-12);
      assertEquals(mu + (x[i] - mu) * 0.4 / 80, mid[i], 1e-9 * (1 + Math.abs(x[i])));
    }
  }

  @Test
  void mixedPointMassesAndGaussiansAgreeWithATwoLegSolve() {
    GaussianMixture g = new GaussianMixture(new double[] {0.5, 0.3, 0.2},
        new double[][] {{-1, 0.5}, {1.2, -0.4}, {0.2, 1.5}}, new double[] {0, 0.5, 0});
    double[] x = normals(300, 2, 80);
    long t0 = System.nanoTime();
    double[] once = ExactFlow.solve(g, x, 80, 0);
    double[] twice = ExactFlow.solve(g, ExactFlow.solve(g, x, 80, 0.01), 0.01, 0);
    assertTrue((System.nanoTime() - t0) / 1e9 < 30, "too slow");
    assertTrue(Oracle.maxAbs(once, twice) < 1e-7, "legs differ by " + Oracle.maxAbs(once, twice));
    for (int p = 0; p < once.length / 2; p++) {
      // Samples of a point-mass component land on its mean.
      boolean onA = Math.hypot(once[2 * p] + 1, once[2 * p + 1] - 0.5) < 1e-9;
      boolean onC = Math.hypot(once[2 * p] - 0.2, once[2 * p + 1] - 1.5) < 1e-9;
      boolean inB = Math.hypot(once[2 * p] - 1.2, once[2 * p + 1] + 0.4) < 4;
      assertTrue(onA || onC || inB, "sample " + p + " ended at " + once[2 * p] + ", " + once[2 * p + 1]);
    }
    // Gaussians only: the tail's closed form matches the solver run all the way (old behaviour) closely.
    GaussianMixture m = Oracle.mixture();
    double[] y = normals(50, 2, 80);
    double[] a = ExactFlow.solve(m, y, 80, 0);
    double[] b = ExactFlow.solve(m, ExactFlow.solve(m, y, 80, 1e-3), 1e-3, 0);
    assertTrue(Oracle.maxAbs(a, b) < 1e-8, "diff " + Oracle.maxAbs(a, b));
  }

  @Test
  void solveFirstChecksOnlyAPrefix() {
    GaussianMixture m = Oracle.mixture();
    double[] y = normals(40, 2, 80);
    double[] all = ExactFlow.solve(m, y, 80, 0);
    double[] first = ExactFlow.solveFirst(m, y, 80, 0, 7);
    assertEquals(14, first.length);
    for (int i = 0; i < first.length; i++) {
      assertEquals(all[i], first[i], 0);
    }
    assertEquals(80, ExactFlow.solveFirst(m, y, 80, 0, 1000).length);
  }

  @Test
  void hugeAndInvalidNumbersAreRefusedNamingTheField() {
    String[][] bad = {
      {"\"weights\":[1],\"means\":[[0]],\"stds\":[1e200]", "stds[0]"},
      {"\"weights\":[1,1],\"means\":[[0],[1]],\"stds\":[1,-1]", "stds[1]"},
      {"\"weights\":[1],\"means\":[[0]],\"stds\":[NaN]", "stds[0]"},
      {"\"weights\":[1,-1],\"means\":[[0],[1]],\"stds\":[1,1]", "weights[1]"},
      {"\"weights\":[0,0],\"means\":[[0],[1]],\"stds\":[1,1]", "weights"},
      {"\"weights\":[1,1],\"means\":[[0],[1,2]],\"stds\":[1,1]", "means[1]"},
      {"\"weights\":[1],\"means\":[[1e300]],\"stds\":[1]", "means[0][0]"},
      {"\"weights\":[1,1],\"means\":[[0]],\"stds\":[1,1]", "means"},
    };
    // Huge but finite weights normalise without overflowing.
    double[] w = new GaussianMixture(new double[] {1e308, 1e308}, new double[][] {{0}, {1}}, new double[] {1, 1})
        .weights();
    assertEquals(0.5, w[0], 1e-15);
    assertEquals(0.5, w[1], 1e-15);
    for (String[] b : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GaussianMixture.fromJson("{\"type\":\"gaussian-mixture\"," + b[0] + "}"), b[0]);
      assertTrue(e.getMessage().contains(b[1]), b[0] + " → " + e.getMessage());
    }
  }

  @Test
  void theStepFloorStopsAHopelessSolveWithAClearError() {
    // A tolerance of 1e-300 cannot be met: the solve stops instead of spinning.
    GaussianMixture m = Oracle.mixture();
    long t0 = System.nanoTime();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ExactFlow.solve(m, normals(2, 2, 80), 80, 0, 1e-300));
    assertTrue(e.getMessage().contains("cannot be met") && e.getMessage().contains("sigma"), e.getMessage());
    assertTrue((System.nanoTime() - t0) / 1e9 < 30, "too slow");
  }
}
