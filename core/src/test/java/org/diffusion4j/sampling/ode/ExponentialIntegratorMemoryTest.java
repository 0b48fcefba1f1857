package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** House style 15: the live-array count after a long run does not grow with the number of steps. */
class ExponentialIntegratorMemoryTest {
  @Test
  void liveArraysStayFlat() {
    GaussianMixture g = Oracle.gaussian(2);
    List<Sampler> samplers = List.of(new Ddim(1), new Deis(3, "t"), new DpmSolver(3, "singlestep", true, true),
        new DpmSolver(3, "multistep", false, true), new DpmSolverFast(3, false),
        new DpmSolverAdaptive(3, 1e-4, 1e-4, 0.9, 1e-5, 0.05, false));
    for (Sampler s : samplers) {
      Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 60);
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray x = m.create(Oracle.normals(3, 2), new Shape(3, 2)).mul(80);
        int before = ((BaseNDManager) m).getManagedArrays().size();
        NDArray out = s.run(g.denoiser(), grid, x, new SeededNoise(1, 2, 3), StepListener.NONE);
        int after = ((BaseNDManager) m).getManagedArrays().size();
        // Only the result survives.
        assertTrue(after - before <= 1, s + ": " + before + " -> " + after + " live arrays");
        out.close();
      }
    }
  }
}
