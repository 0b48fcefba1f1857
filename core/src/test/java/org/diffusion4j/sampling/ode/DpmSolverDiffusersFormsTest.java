package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** The multistep and singlestep DPM-Solver forms of diffusers' schedulers: identities and convergence orders. */
class DpmSolverDiffusersFormsTest {
  private static final NoiseProcess EDM = org.diffusion4j.process.Processes.byId("edm");
  private final GaussianMixture gm = Oracle.mixture();


  private static Grid geometric(int steps) {
    return Oracle.geometric(EDM, 80, 0.05, steps);
  }

  private double[] run(Sampler s, Grid g, double[] x) {
    return Oracle.run(s, gm.denoiser(), g, x, gm.dim(), DataType.FLOAT64, NoiseSource.NONE).x();
  }

  @Test
  void firstOrderFormsAreDdimAndEuler() {
    Grid g = GridSpec.karras().build(EDM, 12);
    double[] x = Oracle.prior(g, Oracle.normals(8, 2));
    double[] ddim = run(new Ddim(0), g, x);
    double[] euler = run(new Euler(), g, x);
    for (boolean heun : new boolean[] {false, true}) {
      assertTrue(Oracle.maxAbs(run(new DpmSolverMultistep(1, true, heun, true, false), g, x), ddim) < 1e-12);
      assertTrue(Oracle.maxAbs(run(new DpmSolverMultistep(1, false, heun, true, false), g, x), euler) < 1e-12);
      assertTrue(Oracle.maxAbs(run(new DpmSolverSinglestep(1, true, heun, true), g, x), ddim) < 1e-12);
      assertTrue(Oracle.maxAbs(run(new DpmSolverSinglestep(1, false, heun, true), g, x), euler) < 1e-12);
    }
    // DDIM in σ-space is Euler: the first-order data and noise forms agree.
    assertTrue(Oracle.maxAbs(ddim, euler) < 1e-12);
  }

  @Test
  void convergenceOrders() {
    // Geometric grids without a final zero and without lowering (steps >= 15): nominal order ± 0.35.
    assertEquals(2.0, Oracle.order(new DpmSolverMultistep(2, true, false, true, false), gm,
        DpmSolverDiffusersFormsTest::geometric, 20, 40), 0.35);
    assertEquals(2.0, Oracle.order(new DpmSolverMultistep(2, false, true, true, false), gm,
        DpmSolverDiffusersFormsTest::geometric, 20, 40), 0.35);
    assertEquals(2.0, Oracle.order(new DpmSolverSinglestep(2, true, false, true), gm,
        DpmSolverDiffusersFormsTest::geometric, 20, 40), 0.35);
    double p3 = Oracle.order(new DpmSolverSinglestep(3, true, true, true), gm,
        DpmSolverDiffusersFormsTest::geometric, 21, 42);
    assertTrue(p3 > 2.6, "singlestep heun order 3 measured " + p3);
  }

  @Test
  void orderListsAreDiffusers() {
    assertEquals("[1, 2, 3, 1, 2, 3, 1, 2, 1]", java.util.Arrays.toString(new DpmSolverSinglestep(3, true, false,
        true).orders(9)));
    assertEquals("[1, 2, 3, 1, 2, 3, 1]", java.util.Arrays.toString(new DpmSolverSinglestep(3, true, false,
        true).orders(7)));
    assertEquals("[1, 2, 3, 1, 2]", java.util.Arrays.toString(new DpmSolverSinglestep(3, true, false,
        false).orders(5)));
    assertEquals("[1, 2, 1, 2, 1]", java.util.Arrays.toString(new DpmSolverSinglestep(2, true, false,
        true).orders(5)));
    assertEquals("[1, 2, 3, 1, 2, 3]", java.util.Arrays.toString(new DpmSolverSinglestep(3, true, false,
        false).orders(6)));
  }
}
