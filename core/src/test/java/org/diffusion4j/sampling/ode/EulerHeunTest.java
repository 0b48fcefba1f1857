package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.Processes;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class EulerHeunTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  @Test
  void eulerIsFirstOrder() {
    double p = Oracle.order(new Euler(), g, n -> Oracle.geometric(Edm.DEFAULT, 20, 0.05, n), 40, 80);
    assertEquals(1.0, p, 0.1);
  }

  @Test
  void heunIsSecondOrder() {
    double p = Oracle.order(new Heun(), g, n -> Oracle.geometric(Edm.DEFAULT, 20, 0.05, n), 20, 40);
    assertEquals(2.0, p, 0.15);
  }

  @Test
  void heunOnMixtureConvergesToExactFlowOnKarrasGrid() {
    GaussianMixture gm = Oracle.mixture();
    double e10 = Oracle.error(new Heun(), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10), 32);
    double e40 = Oracle.error(new Heun(), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 40), 32);
    assertTrue(e40 < e10 / 8, "heun error should shrink ~16x from 10 to 40 steps: " + e10 + " -> " + e40);
    assertTrue(e40 < 1e-2, "heun 40 steps error " + e40);
  }

  @Test
  void heunNfeIsTwoPerStepButOneOnTheLastStepToZero() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 18);
    Oracle.Run r = Oracle.run(new Heun(), g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(3, 2)), 2,
        DataType.FLOAT64, NoiseSource.NONE);
    assertEquals(35, r.nfe());
  }

  @Test
  void samplersAreProcessInvariantInScaledCoordinates() {
    // The PF-ODE in x̂ and σ is the same for every process (Karras et al. 2022 §3): σ-space samplers give
    // the same x̂ on VP as on EDM for the same σ-grid.
    double[] sg = new GridSpec.Karras(0.01, 80, 7).build(Edm.DEFAULT, 12).sigmas();
    Grid edm = Grid.ofSigmas(Edm.DEFAULT, sg);
    Grid vp = Grid.ofSigmas(VpLinear.DEFAULT, sg);
    double[] eps = Oracle.normals(4, 2);
    double[] a = Oracle.run(new Heun(), g.denoiser(), edm, Oracle.prior(edm, eps), 2, DataType.FLOAT64,
        NoiseSource.NONE).x();
    double[] b = Oracle.run(new Heun(), g.denoiser(), vp, Oracle.prior(vp, eps), 2, DataType.FLOAT64,
        NoiseSource.NONE).x();
    assertTrue(Oracle.maxAbs(a, b) < 1e-12, "max diff " + Oracle.maxAbs(a, b));
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    for (String proc : Processes.IDS) {
      if (proc.equals("ddpm")) {
        continue;
      }
      for (int steps = 1; steps <= 3; steps++) {
        Grid grid = new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(Processes.byId(proc), steps);
        for (var s : new org.diffusion4j.sampling.Sampler[] {new Euler(), new Heun()}) {
          double[] x = Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(5, 2)), 2,
              DataType.FLOAT32, NoiseSource.NONE).x();
          for (double v : x) {
            assertTrue(Double.isFinite(v), s.id() + " on " + proc + " with " + steps + " steps gave " + v);
          }
        }
      }
    }
  }
}
