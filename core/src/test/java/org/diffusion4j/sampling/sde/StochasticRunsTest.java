package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** Reproducibility across batch sizes, FLOAT32 robustness on every process, flat memory. */
class StochasticRunsTest {
  private static final List<Sampler> ALL = List.of(new EulerAncestral(1, 1), new EdmStochastic(40, 0.05, 50, 1.003),
      new DpmSolverPlusPlus2SAncestral(1, 1), new DpmSolverPlusPlusSde(1, 1, 0.5),
      new DpmSolverPlusPlus2MSde(1, 1, "midpoint"), new DpmSolverPlusPlus2MSde(1, 1, "heun"),
      new DpmSolverPlusPlus3MSde(1, 1));

  private final GaussianMixture gm = Oracle.mixture();

  /** Seeds {@code seeds}: prior x = σ₀·ε from each seed's stream, then the sampler's draws from the same. */
  private double[] sampleSeeds(Sampler s, Grid grid, long[] seeds, DataType dtype) {
    try (NDManager m = NDManager.newBaseManager()) {
      SeededNoise noise = new SeededNoise(seeds);
      NDArray x = noise.randn(m, new Shape(seeds.length, gm.dim()), dtype).mul(grid.sigma(0) * grid.s(0));
      NDArray out = s.run(gm.denoiser(), grid, x, noise, StepListener.NONE);
      return out.toType(DataType.FLOAT64, false).toDoubleArray();
    }
  }

  @Test
  void sampleKDependsOnlyOnSeedKWhateverTheBatchSize() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 20);
    long[] seeds = new long[64];
    for (int k = 0; k < 64; k++) {
      seeds[k] = k;
    }
    int d = gm.dim();
    for (DataType dtype : List.of(DataType.FLOAT32, DataType.FLOAT64)) {
      Sampler s = new DpmSolverPlusPlusSde(1, 1, 0.5);
      double[] whole = sampleSeeds(s, grid, seeds, dtype);
      for (int batch : new int[] {7, 1}) {
        for (int from = 0; from < 64; from += batch) {
          int to = Math.min(64, from + batch);
          double[] part = sampleSeeds(s, grid, Arrays.copyOfRange(seeds, from, to), dtype);
          assertArrayEquals(Arrays.copyOfRange(whole, from * d, to * d), part, 0.0,
              dtype + " batch " + batch + " rows " + from + ".." + (to - 1));
        }
      }
    }
  }

  @Test
  void differentSeedsGiveDifferentSamples() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10);
    for (Sampler s : ALL) {
      double[] a = sampleSeeds(s, grid, new long[] {1, 2}, DataType.FLOAT64);
      assertTrue(Math.abs(a[0] - a[2]) + Math.abs(a[1] - a[3]) > 1e-6, s.id());
    }
  }

  @Test
  void float32StaysFiniteWithOneToThreeStepsOnEveryProcess() {
    GaussianMixture g = Oracle.gaussian(2);
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      for (int steps = 1; steps <= 3; steps++) {
        Grid grid = p.isDiscrete() ? new GridSpec.Timesteps("trailing", 0, false).build(p, steps)
            : new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(p, steps);
        for (Sampler s : ALL) {
          double[] x = Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(5, 2)), 2, DataType.FLOAT32,
              new SeededNoise(1, 2, 3, 4, 5)).x();
          for (double v : x) {
            assertTrue(Double.isFinite(v), s.id() + " on " + id + " with " + steps + " steps gave " + v);
          }
        }
      }
    }
  }

  @Test
  void liveArrayCountStaysFlatOverLongRuns() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 200);
    for (Sampler s : ALL) {
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray x = m.create(Oracle.prior(grid, Oracle.normals(4, 2)), new Shape(4, 2));
        NDArray out = s.run(gm.denoiser(), grid, x, new SeededNoise(1, 2, 3, 4), StepListener.NONE);
        assertTrue(!x.isReleased() && !out.isReleased(), s.id());
        // Only the caller's input and the result are left.
        assertEquals(2, ((BaseNDManager) m).getManagedArrays().size(), s.id());
      }
    }
  }
}
