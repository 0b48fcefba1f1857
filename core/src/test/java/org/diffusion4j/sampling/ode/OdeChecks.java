package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;

/** Checks shared by the σ-space ODE sampler tests. */
final class OdeChecks {
  private OdeChecks() {}

  /** Runs {@code s} in FLOAT64 on {@code n} prior draws; returns the output (process coordinates). */
  static Oracle.Run run(Sampler s, GaussianMixture g, Grid grid, int n) {
    return Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(n, g.dim())), g.dim(),
        DataType.FLOAT64, NoiseSource.NONE);
  }

  /** No NaN/Inf in FLOAT32 with 1–3 steps on default Karras grids ending at 0, for every process. */
  static void assertFiniteInFloat32(Sampler s, GaussianMixture g) {
    for (String proc : Processes.IDS) {
      if (proc.equals("ddpm")) {
        continue; // discrete process: its grids come from timestep spacings, tested elsewhere
      }
      for (int steps = 1; steps <= 3; steps++) {
        Grid grid = new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(Processes.byId(proc), steps);
        double[] x = Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(5, g.dim())), g.dim(),
            DataType.FLOAT32, NoiseSource.NONE).x();
        for (double v : x) {
          assertTrue(Double.isFinite(v), s.id() + " on " + proc + " with " + steps + " steps gave " + v);
        }
      }
    }
  }

  /**
   * The step to σ = 0 is the explicit Euler branch: running to σ_{N−1} and then one Euler step equals the
   * run over the whole grid to round-off (EDM process, so x = x̂).
   */
  static void assertLastStepIsEuler(Sampler s, GaussianMixture g) {
    Grid full = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 8);
    double[] sg = full.sigmas();
    Grid head = Grid.ofSigmas(Edm.DEFAULT, Arrays.copyOf(sg, sg.length - 1));
    Grid tail = Grid.ofSigmas(Edm.DEFAULT, sg[sg.length - 2], 0);
    double[] eps = Oracle.normals(6, g.dim());
    double[] whole = Oracle.run(s, g.denoiser(), full, Oracle.prior(full, eps), g.dim(), DataType.FLOAT64,
        NoiseSource.NONE).x();
    double[] mid = Oracle.run(s, g.denoiser(), head, Oracle.prior(head, eps), g.dim(), DataType.FLOAT64,
        NoiseSource.NONE).x();
    double[] split = Oracle.run(new Euler(), g.denoiser(), tail, mid, g.dim(), DataType.FLOAT64,
        NoiseSource.NONE).x();
    assertTrue(Oracle.maxAbs(whole, split) < 1e-13, s.id() + ": last step differs from Euler by "
        + Oracle.maxAbs(whole, split));
  }

  /**
   * Live arrays left behind by a run (besides its input and output) do not grow with the number of steps
   * (house style 15).
   */
  static void assertMemoryFlat(Sampler s, GaussianMixture g) {
    int few = leftovers(s, g, 4);
    int many = leftovers(s, g, 40);
    assertTrue(few == 0 && many == 0, s.id() + " leaves " + few + " arrays after 4 steps, " + many
        + " after 40");
  }

  private static int leftovers(Sampler s, GaussianMixture g, int steps) {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, steps);
    try (NDManager m = NDManager.newBaseManager()) {
      double[] x = Oracle.prior(grid, Oracle.normals(4, g.dim()));
      NDArray x0 = m.create(x, new Shape(4, g.dim()));
      NDArray out = s.run(g.denoiser(), grid, x0, NoiseSource.NONE, info -> info.xHat().sum());
      int live = ((BaseNDManager) m).getManagedArrays().size();
      return live - 2 - (out == x0 ? -1 : 0);
    }
  }
}
