package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** FLOAT32 with 1–3 steps on every process and grids ending at 0, incl. DDPM's leading/trailing grids. */
class ExponentialIntegratorFiniteTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  private static List<Sampler> samplers() {
    return List.of(new Ddim(0), new Ddim(1), new Deis(3, "logrho"), new Deis(3, "t"),
        new DpmSolver(3, "singlestep", false, true), new DpmSolver(3, "singlestep", true, true),
        new DpmSolver(3, "multistep", false, false), new DpmSolver(2, "multistep", true, true),
        new DpmSolverFast(3, false), DpmSolverAdaptive.defaults());
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    for (String proc : Processes.IDS) {
      NoiseProcess p = Processes.byId(proc);
      for (int steps = 1; steps <= 3; steps++) {
        List<Grid> grids = new ArrayList<>();
        grids.add(new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(p, steps));
        if (p.isDiscrete()) {
          grids.add(new GridSpec.Timesteps("leading", 1, false).build(p, steps));
          grids.add(new GridSpec.Timesteps("leading", 0, true).build(p, steps));
          grids.add(new GridSpec.Timesteps("trailing", 0, false).build(p, steps));
        }
        for (Grid grid : grids) {
          for (Sampler s : samplers()) {
            double[] x = Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(5, 2)), 2,
                DataType.FLOAT32, new SeededNoise(1, 2, 3, 4, 5)).x();
            for (double v : x) {
              assertTrue(Double.isFinite(v), s + " on " + grid + " gave " + v);
            }
          }
        }
      }
    }
  }
}
