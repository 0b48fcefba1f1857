package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** Cross-cutting checks of euler-maruyama, ddpm, pc and ald: FLOAT32 robustness, registry, parameters. */
class SdeSamplersTest {
  private static final List<Sampler> SAMPLERS = List.of(new EulerMaruyama(), new DdpmAncestral(),
      new DdpmAncestral(DdpmAncestral.Variance.LARGE), new PredictorCorrector(), new AnnealedLangevin());

  /** Karras grids (process defaults) for the continuous processes, the three spacings for ddpm. */
  private static List<Grid> grids(int steps) {
    List<Grid> out = new ArrayList<>();
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      if (p.isDiscrete()) {
        for (String spacing : List.of("leading", "trailing", "linspace")) {
          out.add(new GridSpec.Timesteps(spacing, 0, false).build(p, steps));
        }
      } else {
        out.add(new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(p, steps));
      }
    }
    return out;
  }

  @Test
  void float32StaysFiniteWithOneToThreeStepsOnEveryProcess() {
    GaussianMixture gm = Oracle.mixture();
    for (int steps = 1; steps <= 3; steps++) {
      for (Grid grid : grids(steps)) {
        for (Sampler sampler : SAMPLERS) {
          // ald at NCSN's ratio ε/σ_L² = 0.2 (the default ε is refused when σ_L < 0.0032).
          double sigmaL = grid.sigma(grid.size() - 2);
          Sampler s = sampler instanceof AnnealedLangevin ? new AnnealedLangevin(10, Math.min(1, 0.2 * sigmaL * sigmaL), true)
              : sampler;
          double[] x = Oracle.run(s, gm.denoiser(), grid, Oracle.prior(grid, Oracle.normals(5, 2)), 2,
              DataType.FLOAT32, new SeededNoise(SdeTesting.seeds(5, 11))).x();
          assertTrue(SdeTesting.finite(x), s + " on " + grid + " gave " + java.util.Arrays.toString(x));
        }
      }
    }
  }

  @Test
  void liveArrayCountStaysFlatOverLongRuns() {
    // After a run, only the input and the result are left on the caller's manager, whatever the length.
    GaussianMixture gm = Oracle.gaussian(2);
    for (Sampler s : SAMPLERS) {
      int[] live = new int[2];
      int k = 0;
      for (int steps : new int[] {3, 60}) {
        Grid grid = new GridSpec.Karras(0.05, 10, 7).build(Processes.byId("vp"), steps);
        try (NDManager m = NDManager.newBaseManager()) {
          NDArray x = m.create(Oracle.prior(grid, Oracle.normals(4, 2)), new Shape(4, 2));
          NDArray out = s.run(gm.denoiser(), grid, x, new SeededNoise(1, 2, 3, 4), StepListener.NONE);
          assertTrue(!x.isReleased() && !out.isReleased(), s + " closed its input or result");
          live[k++] = m.getManagedArrays().size();
        }
      }
      assertEquals(2, live[0], s + " live arrays after 3 steps");
      assertEquals(live[0], live[1], s + " live arrays after 3 vs 60 steps");
    }
  }

  @Test
  void listenerSeesEveryStepOnceInOrder() {
    GaussianMixture gm = Oracle.gaussian(2);
    Grid grid = new GridSpec.Karras(0.05, 10, 7).build(Processes.byId("vp"), 7);
    for (Sampler s : SAMPLERS) {
      List<Integer> seen = new ArrayList<>();
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray x = m.create(Oracle.prior(grid, Oracle.normals(3, 2)), new Shape(3, 2));
        s.run(gm.denoiser(), grid, x, new SeededNoise(1, 2, 3), info -> {
          seen.add(info.step());
          assertEquals(grid.sigma(info.step() + 1), info.sigmaNext(), 0);
        });
      }
      assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), seen, s.id());
    }
  }

  @Test
  void aldRefusesAnUnstableEpsilonNamingBothValues() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Processes.byId("edm"), 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Oracle.run(new AnnealedLangevin(), Oracle.gaussian(2).denoiser(), grid,
            Oracle.prior(grid, Oracle.normals(2, 2)), 2, DataType.FLOAT64, new SeededNoise(1, 2)));
    assertTrue(e.getMessage().contains("2.0E-5") && e.getMessage().contains("0.002"), e.getMessage());
  }

  @Test
  void registryBuildsEachSamplerWithItsDefaults() {
    assertEquals(new EulerMaruyama(), SamplerRegistry.create("euler-maruyama", Map.of()));
    assertEquals(new DdpmAncestral(), SamplerRegistry.create("ddpm", Map.of()));
    assertEquals(new DdpmAncestral(DdpmAncestral.Variance.LARGE),
        SamplerRegistry.create("ddpm", Map.of("variance", "large")));
    assertEquals(new PredictorCorrector(0.16, 1), SamplerRegistry.create("pc", Map.of()));
    assertEquals(new PredictorCorrector(0.01, 3),
        SamplerRegistry.create("pc", Map.of("snr", "0.01", "corrector-steps", "3")));
    assertEquals(new AnnealedLangevin(10, 2e-5, true), SamplerRegistry.create("ald", Map.of()));
    assertEquals(new AnnealedLangevin(100, 1e-4, false), SamplerRegistry.create("ald",
        Map.of("steps-per-level", "100", "epsilon", "1e-4", "final-denoise", "false")));
    for (String id : List.of("euler-maruyama", "ddpm", "pc", "ald")) {
      assertTrue(SamplerRegistry.get(id).stochastic(), id + " draws noise");
      assertEquals(id, SamplerRegistry.create(id, Map.of()).id());
    }
  }

  @Test
  void badParametersNameTheValueAndTheRange() {
    assertMessage("ddpm", Map.of("variance", "huge"), "huge", "small, large");
    assertMessage("pc", Map.of("snr", "-0.1"), "-0.1", "in [0, 10]");
    assertMessage("pc", Map.of("corrector-steps", "-1"), "-1", "[0, 1000]");
    assertMessage("ald", Map.of("steps-per-level", "0"), "0", "in [1, 10000]");
    assertMessage("ald", Map.of("epsilon", "0"), "0", "in [1e-12, 1]");
    assertMessage("ald", Map.of("final-denoise", "maybe"), "maybe", "true or false");
    assertMessage("euler-maruyama", Map.of("gamma-scale", "1"), "gamma-scale", "none");
  }

  private static void assertMessage(String id, Map<String, String> params, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create(id, params));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should contain '" + p + "'");
    }
  }
}
