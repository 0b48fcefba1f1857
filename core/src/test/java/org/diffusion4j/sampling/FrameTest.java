package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class FrameTest {
  @Test
  void noiseRowKDependsOnlyOnSeedK() {
    long[] seeds = new long[64];
    for (int i = 0; i < 64; i++) {
      seeds[i] = i;
    }
    try (NDManager m = NDManager.newBaseManager()) {
      double[] all = new SeededNoise(seeds).randn(m, new Shape(64, 3), DataType.FLOAT64).toDoubleArray();
      for (int batch : new int[] {1, 7}) {
        SeededNoise whole = new SeededNoise(seeds);
        for (int from = 0; from < 64; from += batch) {
          int to = Math.min(64, from + batch);
          double[] part = whole.slice(from, to).randn(m, new Shape(to - from, 3), DataType.FLOAT64).toDoubleArray();
          for (int i = 0; i < part.length; i++) {
            assertEquals(all[from * 3 + i], part[i], 0, "batch " + batch + " row " + (from + i / 3));
          }
        }
      }
    }
  }

  @Test
  void seedListsParse() {
    assertArrayEquals(new long[] {1, 2, 5, 6, 7}, SeededNoise.parseSeeds("1,2,5-7"));
    assertEquals(64, SeededNoise.parseSeeds("0-63").length);
    var e = assertThrows(IllegalArgumentException.class, () -> SeededNoise.parseSeeds("3-1"));
    assertTrue(e.getMessage().contains("3-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SeededNoise.parseSeeds("a"));
    assertTrue(e.getMessage().contains("'a'"), e.getMessage());
  }

  @Test
  void deterministicRunIsBitIdenticalAcrossBatchSizes() {
    GaussianMixture gm = Oracle.mixture();
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10);
    double[] eps = Oracle.normals(64, 2);
    double[] x = Oracle.prior(grid, eps);
    double[] whole = Oracle.run(new Heun(), gm.denoiser(), grid, x, 2, DataType.FLOAT64, NoiseSource.NONE).x();
    for (int batch : new int[] {1, 7}) {
      for (int from = 0; from < 64; from += batch) {
        int to = Math.min(64, from + batch);
        double[] part = Oracle.run(new Heun(), gm.denoiser(), grid,
            java.util.Arrays.copyOfRange(x, 2 * from, 2 * to), 2, DataType.FLOAT64, NoiseSource.NONE).x();
        for (int i = 0; i < part.length; i++) {
          assertEquals(whole[2 * from + i], part[i], 0, "batch " + batch + " element " + (2 * from + i));
        }
      }
    }
  }

  @Test
  void longRunsKeepTheLiveArrayCountFlat() {
    GaussianMixture gm = Oracle.mixture();
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 400);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(Oracle.prior(grid, Oracle.normals(8, 2)), new Shape(8, 2));
      int[] counts = new int[grid.steps()];
      new Heun().sample(gm.denoiser(), grid, x, NoiseSource.NONE,
          info -> counts[info.step()] = m.getManagedArrays().size());
      assertTrue(counts[399] <= counts[5] + 2,
          "live arrays grew from " + counts[5] + " (step 5) to " + counts[399] + " (step 399)");
    }
  }

  @Test
  void theFlatnessCheckDetectsALeakingLoop() {
    // Control for the test above: the same Euler loop without a StepScope leaks, and the count shows it.
    GaussianMixture gm = Oracle.mixture();
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 100);
    Sampler leaky = new Sampler() {
      @Override public String id() { return "leaky-euler"; }
      @Override public NDArray run(org.diffusion4j.denoiser.Denoiser model, Grid g, NDArray x0, NoiseSource n,
          StepListener l) {
        NDArray x = x0.duplicate();
        for (int i = 0; i < g.steps(); i++) {
          NDArray d = SigmaSpace.derivative(x, model.denoise(x, g.sigma(i)), g.sigma(i));
          x = x.add(d.mul(g.sigma(i + 1) - g.sigma(i)));
          SigmaSpace.notify(l, g, i, x, null);
        }
        return x;
      }
    };
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(Oracle.prior(grid, Oracle.normals(8, 2)), new Shape(8, 2));
      int[] counts = new int[grid.steps()];
      leaky.sample(gm.denoiser(), grid, x, NoiseSource.NONE, info -> counts[info.step()] = m.getManagedArrays().size());
      assertTrue(counts[99] > counts[5] + 100, "a leaking loop must show growth: " + counts[5] + " -> " + counts[99]);
    }
  }

  @Test
  void infinityIsAcceptedWhereARealIsExpected() {
    SamplerParams p = new SamplerParams("x", List.of(new ParamSpec("a", "inf", "")), Map.of());
    assertEquals(Double.POSITIVE_INFINITY, p.getDouble("a"), 0);
    SamplerParams q = new SamplerParams("x", List.of(new ParamSpec("a", "1", "")), Map.of("a", "nan"));
    var e = assertThrows(IllegalArgumentException.class, () -> q.getDouble("a"));
    assertTrue(e.getMessage().contains("'nan'"), e.getMessage());
  }

  @Test
  void registryRejectsUnknownSamplersAndParameters() {
    var e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.get("hune"));
    assertTrue(e.getMessage().contains("hune") && e.getMessage().contains("heun"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("heun", Map.of("eta", "1")));
    assertTrue(e.getMessage().contains("eta") && e.getMessage().contains("heun"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplerParams.parseAssignments(List.of("eta")));
    assertTrue(e.getMessage().contains("name=value"), e.getMessage());
    for (SamplerInfo info : SamplerRegistry.all()) {
      Sampler s = info.create(Map.of());
      assertEquals(info.id(), s.id(), "registry id and sampler id agree");
    }
  }
}
