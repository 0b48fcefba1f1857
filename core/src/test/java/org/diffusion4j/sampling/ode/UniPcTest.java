package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class UniPcTest {
  private final GaussianMixture g = Oracle.gaussian(2);
  private static final GridSpec KARRAS = new GridSpec.Karras(0.002, 80, 7);

  private static Grid geometric(int n) {
    return Oracle.geometric(Edm.DEFAULT, 20, 0.05, n);
  }

  private static UniPc fixedOrder(int p, String variant, boolean corrector) {
    return new UniPc(p, variant, false, corrector);
  }

  @Test
  void predictorAloneHasOrderP() {
    // Measured: 0.99 and 1.98 on the Gaussian (40 -> 80 steps); 3.20 for p = 3 on the mixture, where the
    // Gaussian superconverges.
    assertEquals(1.0, Oracle.order(fixedOrder(1, "bh2", false), g, UniPcTest::geometric, 40, 80), 0.1);
    assertEquals(2.0, Oracle.order(fixedOrder(2, "bh2", false), g, UniPcTest::geometric, 40, 80), 0.15);
    assertEquals(3.0, Oracle.order(fixedOrder(3, "bh2", false), Oracle.mixture(), UniPcTest::geometric, 40, 80),
        0.3);
  }

  @Test
  void correctorRaisesTheOrderToPPlusOne() {
    // Measured: 2.00, 2.99 (bh2), 3.05 (bh1) between 40 and 80 steps; p = 3: 3.91 between 80 and 160
    // (the warm-up step, corrected by UniC-1, has local error O(h³) and caps the order at 3 on finer grids).
    assertEquals(2.0, Oracle.order(fixedOrder(1, "bh2", true), g, UniPcTest::geometric, 40, 80), 0.15);
    assertEquals(3.0, Oracle.order(fixedOrder(2, "bh2", true), g, UniPcTest::geometric, 40, 80), 0.2);
    assertEquals(3.0, Oracle.order(fixedOrder(2, "bh1", true), g, UniPcTest::geometric, 40, 80), 0.2);
    assertEquals(4.0, Oracle.order(fixedOrder(3, "bh2", true), g, UniPcTest::geometric, 80, 160), 0.25);
  }

  @Test
  void uniP2Bh2IsDpmSolverPlusPlus2M() {
    // Zhao et al. 2023 §3.3: UniP-2 with B(h) = e^h − 1 is DPM-Solver++(2M); with lower-order-final the
    // last step to 0 is first order as in k-diffusion. On VP, against the σ-space sampler.
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, KARRAS.build(Edm.DEFAULT, 10).sigmas());
    double[] eps = Oracle.normals(5, 2);
    double[] a = SamplerChecks.finalXHat(new UniPc(2, "bh2", true, false), g.denoiser(), grid, eps, 2);
    double[] b = SamplerChecks.finalXHat(new DpmSolverPlusPlus2M(), g.denoiser(), grid, eps, 2);
    assertTrue(Oracle.maxAbs(a, b) < 1e-12, "max diff " + Oracle.maxAbs(a, b));
  }

  @Test
  void uniP1IsEulerInXHat() {
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, geometric(9).sigmas());
    double[] eps = Oracle.normals(5, 2);
    for (String v : new String[] {"bh1", "bh2"}) {
      double[] a = SamplerChecks.finalXHat(new UniPc(1, v, true, false), g.denoiser(), grid, eps, 2);
      double[] b = SamplerChecks.finalXHat(new Euler(), g.denoiser(), grid, eps, 2);
      assertTrue(Oracle.maxAbs(a, b) < 1e-12, v + " max diff " + Oracle.maxAbs(a, b));
    }
  }

  @Test
  void firstStepIsEulerInXHat() {
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, KARRAS.build(Edm.DEFAULT, 8).sigmas());
    double[] x = Oracle.prior(grid, Oracle.normals(4, 2));
    double[] euler = SamplerChecks.afterFirstStep(new Euler(), g.denoiser(), grid, x, 2);
    double[] got = SamplerChecks.afterFirstStep(new UniPc(3, "bh2", true, true), g.denoiser(), grid, x, 2);
    assertTrue(Oracle.maxAbs(got, euler) < 1e-12, "max diff " + Oracle.maxAbs(got, euler));
  }

  @Test
  void disablingTheCorrectorOnEveryStepEqualsNoCorrector() {
    Grid grid = KARRAS.build(Edm.DEFAULT, 6);
    double[] eps = Oracle.normals(4, 2);
    double[] a = SamplerChecks.finalXHat(new UniPc(3, "bh2", true, true, List.of(0, 1, 2, 3, 4, 5)),
        g.denoiser(), grid, eps, 2);
    double[] b = SamplerChecks.finalXHat(new UniPc(3, "bh2", true, false), g.denoiser(), grid, eps, 2);
    double[] c = SamplerChecks.finalXHat(new UniPc(3, "bh2", true, true), g.denoiser(), grid, eps, 2);
    assertTrue(Oracle.maxAbs(a, b) < 1e-15, "max diff " + Oracle.maxAbs(a, b));
    assertTrue(Oracle.maxAbs(a, c) > 1e-6, "the corrector should change the result: " + Oracle.maxAbs(a, c));
  }

  @Test
  void lastStepToZeroIsFirstOrderWhateverTheOrder() {
    // With order 2 the explicit σ = 0 branch makes lower-order-final=false equal to true.
    Grid grid = KARRAS.build(Edm.DEFAULT, 7);
    double[] eps = Oracle.normals(4, 2);
    double[] a = SamplerChecks.finalXHat(new UniPc(2, "bh2", false, true), g.denoiser(), grid, eps, 2);
    double[] b = SamplerChecks.finalXHat(new UniPc(2, "bh2", true, true), g.denoiser(), grid, eps, 2);
    assertTrue(Oracle.maxAbs(a, b) < 1e-15, "max diff " + Oracle.maxAbs(a, b));
  }

  @Test
  void processInvariantInScaledCoordinates() {
    // The λ-form over (α, σ) of any process gives the same x̂ for the same σ's, DDPM timesteps included.
    Grid ddpm = new GridSpec.Timesteps("trailing", 0, false).build(DiscreteDdpm.DEFAULT, 8);
    double[] sg = ddpm.sigmas();
    double[] eps = Oracle.normals(4, 2);
    Sampler s = new UniPc(3, "bh1", true, true);
    double[] ref = SamplerChecks.finalXHat(s, g.denoiser(), Grid.ofSigmas(Edm.DEFAULT, sg), eps, 2);
    for (Grid grid : new Grid[] {ddpm, Grid.ofSigmas(VpLinear.DEFAULT, sg), Grid.ofSigmas(RectifiedFlow.DEFAULT, sg)}) {
      double[] got = SamplerChecks.finalXHat(s, g.denoiser(), grid, eps, 2);
      assertTrue(Oracle.maxAbs(got, ref) < 1e-12, grid + " max diff " + Oracle.maxAbs(got, ref));
    }
  }

  @Test
  void mixtureErrorAgainstExactFlowShrinksOnKarrasGrid() {
    // Measured e10 -> e40: UniPC-2 bh2 1.8e-1 -> 1.8e-3, UniPC-3 bh1 2.8e-1 -> 9.8e-4.
    SamplerChecks.assertMixtureErrorShrinks(new UniPc(2, "bh2", true, true), new UniPc(3, "bh1", true, true));
  }

  @Test
  void nfeEqualsSteps() {
    double[] eps = Oracle.normals(3, 2);
    for (Grid grid : new Grid[] {KARRAS.build(Edm.DEFAULT, 10), geometric(10)}) {
      for (int p = 1; p <= 3; p++) {
        int nfe = Oracle.run(new UniPc(p, "bh2", false, true), g.denoiser(), grid, Oracle.prior(grid, eps), 2,
            DataType.FLOAT64, NoiseSource.NONE).nfe();
        assertEquals(10, nfe, "order " + p + " on " + grid);
      }
    }
  }

  @Test
  void liveArrayCountStaysFlatOverLongRuns() {
    for (Sampler s : new Sampler[] {new UniPc(3, "bh2", true, true), new UniPc(2, "bh1", false, false)}) {
      assertEquals(2, SamplerChecks.liveArraysAfterRun(s, g, 3), s + " after 3 steps");
      assertEquals(2, SamplerChecks.liveArraysAfterRun(s, g, 60), s + " after 60 steps");
    }
  }

  @Test
  void float32StaysFiniteWithOneToThreeStepsOnEveryProcess() {
    SamplerChecks.assertFiniteInFloat32(g, new UniPc(1, "bh2", true, true), new UniPc(2, "bh2", true, true),
        new UniPc(3, "bh2", false, true), new UniPc(3, "bh1", false, false), new UniPc(2, "bh1", false, true));
  }

  @Test
  void registryBuildsAndRejectsBadParameters() {
    assertEquals(new UniPc(2, "bh2", true, true), SamplerRegistry.create("unipc", Map.of()));
    assertEquals(new UniPc(3, "bh1", false, true, List.of(0, 2)), SamplerRegistry.create("unipc",
        Map.of("order", "3", "variant", "bh1", "lower-order-final", "false", "disable-corrector", "0, 2")));
    String[][] bad = {{"order", "4", "[1, 3]"}, {"variant", "bh3", "bh1, bh2"}, {"corrector", "yes", "true or false"},
        {"disable-corrector", "1,x", "list of integers"}, {"disable-corrector", "-1", "got -1"}};
    for (String[] b : bad) {
      var e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("unipc", Map.of(b[0], b[1])));
      assertTrue(e.getMessage().contains(b[2]) && e.getMessage().contains(b[0]), e.getMessage());
    }
  }
}
