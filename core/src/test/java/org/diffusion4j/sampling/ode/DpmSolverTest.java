package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class DpmSolverTest {
  private final GaussianMixture g = Oracle.gaussian(2);
  private final IntFunction<Grid> vp = n -> Oracle.geometric(VpLinear.DEFAULT, 80, 0.05, n);

  private Oracle.Run run(Sampler s, Grid grid) {
    return Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(4, 2)), 2, DataType.FLOAT64,
        NoiseSource.NONE);
  }

  private static DpmSolver single(int order, boolean taylor) {
    return new DpmSolver(order, "singlestep", taylor, true);
  }

  private static DpmSolver multi(int order, boolean taylor) {
    return new DpmSolver(order, "multistep", taylor, true);
  }

  @Test
  void dpmSolverOneIsDdim() {
    // 001 eq. 9.4.8 (SMP-09, SMP-11): DPM-Solver-1 == DDIM.
    for (Grid grid : new Grid[] {new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 9), vp.apply(7),
        new GridSpec.Timesteps("leading", 1, false).build(DiscreteDdpm.DEFAULT, 6)}) {
      double[] ddim = run(new Ddim(0), grid).x();
      for (Sampler s : new Sampler[] {single(1, false), multi(1, false), new DpmSolverFast(1, false)}) {
        double[] x = run(s, grid).x();
        assertTrue(Oracle.maxAbs(ddim, x) < 1e-12, s + " on " + grid + ": " + Oracle.maxAbs(ddim, x));
      }
    }
  }

  @Test
  void singlestepOrders() {
    assertEquals(1.0, Oracle.order(single(1, false), g, vp, 20, 40), 0.1);
    assertEquals(2.0, Oracle.order(single(2, false), g, vp, 20, 40), 0.15);
    assertEquals(2.0, Oracle.order(single(2, true), g, vp, 20, 40), 0.15);
    assertEquals(3.0, Oracle.order(single(3, false), g, vp, 20, 40), 0.3);
    assertEquals(3.0, Oracle.order(single(3, true), g, vp, 20, 40), 0.3);
  }

  @Test
  void multistepOrders() {
    assertEquals(1.0, Oracle.order(multi(1, false), g, vp, 40, 80), 0.1);
    assertEquals(2.0, Oracle.order(multi(2, false), g, vp, 40, 80), 0.15);
    assertEquals(2.0, Oracle.order(multi(2, true), g, vp, 40, 80), 0.15);
    // The reference's multistep 3rd-order ε-update (dpm_solver_pytorch multistep_dpm_solver_third_update,
    // also diffusers) weights D2 ≈ h²ε''/2 by φ3 = (e^h − 1 − h − h²/2)/h², half the Taylor term, so its local
    // error is O(h³): it converges with order 2 (measured 2.02; with the factor 2 restored it would be ≈ 4
    // here, equal to DEIS-3 logrho). We reproduce the reference and pin that behaviour.
    assertEquals(2.0, Oracle.order(multi(3, false), g, vp, 40, 80), 0.15);
  }

  @Test
  void nfeCounts() {
    Grid karras = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 10);
    assertEquals(9 * 3 + 1, run(single(3, false), karras).nfe());
    assertEquals(9 * 2 + 1, run(single(2, true), karras).nfe());
    assertEquals(10, run(multi(3, false), karras).nfe());
    assertEquals(10, run(new DpmSolverFast(3, false), karras).nfe());
    assertEquals(10, run(new DpmSolverFast(3, false), vp.apply(10)).nfe());
    assertEquals(7, run(new DpmSolverFast(2, false), vp.apply(7)).nfe());
  }

  @Test
  void lowerOrderFinalActsBelowTenStepsOnly() {
    Grid nine = vp.apply(9);
    assertNotEquals(0.0, Oracle.maxAbs(run(multi(3, false), nine).x(),
        run(new DpmSolver(3, "multistep", false, false), nine).x()));
    Grid ten = vp.apply(10);
    assertEquals(0.0, Oracle.maxAbs(run(multi(3, false), ten).x(),
        run(new DpmSolver(3, "multistep", false, false), ten).x()));
  }

  @Test
  void fastOrderScheduleIsTheReferences() {
    // dpm_solver_pytorch get_orders_and_timesteps_for_singlestep_solver, for NFE budget M and order k.
    assertEquals(List.of(3, 3, 3, 1), DpmSolverFast.orders(10, 3));
    assertEquals(List.of(3, 3, 2, 1), DpmSolverFast.orders(9, 3));
    assertEquals(List.of(3, 3, 3, 2), DpmSolverFast.orders(11, 3));
    assertEquals(List.of(1), DpmSolverFast.orders(1, 3));
    assertEquals(List.of(2), DpmSolverFast.orders(2, 3));
    assertEquals(List.of(2, 1), DpmSolverFast.orders(3, 3));
    assertEquals(List.of(2, 2, 2, 1), DpmSolverFast.orders(7, 2));
    assertEquals(List.of(1, 1, 1, 1), DpmSolverFast.orders(4, 1));
  }

  @Test
  void fastOrderTwoOnAFineGridIsSinglestepTwoOnTheCoarseGrid() {
    // A geometric σ grid is uniform in λ, so its odd points are the coarse grid's midpoints (r1 = 1/2).
    double[] fast = run(new DpmSolverFast(2, false), vp.apply(16)).x();
    double[] coarse = run(single(2, false), vp.apply(8)).x();
    assertTrue(Oracle.maxAbs(fast, coarse) < 1e-10, "max diff " + Oracle.maxAbs(fast, coarse));
  }

  @Test
  void fastConvergesFasterThanThirdOrderPerNfe() {
    double e15 = Oracle.error(new DpmSolverFast(3, false), g, vp.apply(15), 16);
    double e30 = Oracle.error(new DpmSolverFast(3, false), g, vp.apply(30), 16);
    double e60 = Oracle.error(new DpmSolverFast(3, false), g, vp.apply(60), 16);
    // Measured 1.15e-2, 5.7e-4, 2.0e-5.
    assertTrue(e30 < e15 / 8 && e60 < e30 / 8, e15 + " " + e30 + " " + e60);
  }

  @Test
  void adaptiveErrorStaysBelowTheTolerance() {
    Grid grid = vp.apply(10);
    for (int order : new int[] {2, 3}) {
      int lastNfe = 0;
      for (double tol : new double[] {1e-3, 1e-4}) {
        DpmSolverAdaptive a = new DpmSolverAdaptive(order, tol, tol, 0.9, 1e-5, 0.05, false);
        double err = Oracle.error(a, g, grid, 16);
        assertTrue(err < tol, "order " + order + " tol " + tol + ": error " + err);
        int nfe = run(a, grid).nfe();
        assertTrue(nfe > lastNfe, "a tighter tolerance costs more NFE: " + nfe + " after " + lastNfe);
        lastNfe = nfe;
      }
    }
  }

  @Test
  void adaptiveEndsWithOneDenoisingStepOnGridsEndingAtZero() {
    Grid karras = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 10);
    Grid cut = Grid.ofSigmas(VpLinear.DEFAULT, java.util.Arrays.copyOf(karras.sigmas(), 10));
    assertEquals(run(DpmSolverAdaptive.defaults(), cut).nfe() + 1, run(DpmSolverAdaptive.defaults(), karras).nfe());
    assertTrue(Oracle.error(DpmSolverAdaptive.defaults(), g, karras, 16) < 2e-2);
  }

  @Test
  void parametersParseAndFailNamingTheValue() {
    assertEquals(new DpmSolver(2, "multistep", false, true), SamplerRegistry.create("dpm-solver", Map.of()));
    assertEquals(new DpmSolver(3, "singlestep", true, true),
        SamplerRegistry.create("dpm-solver", Map.of("method", "singlestep", "variant", "taylor")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpm-solver", Map.of("order", "4")));
    assertTrue(e.getMessage().contains("'4'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpm-solver-adaptive", Map.of("order", "1")));
    assertTrue(e.getMessage().contains("got 1"), e.getMessage());
  }
}
