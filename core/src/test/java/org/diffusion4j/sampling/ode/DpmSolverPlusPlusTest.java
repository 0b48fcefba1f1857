package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class DpmSolverPlusPlusTest {
  private final GaussianMixture g = Oracle.gaussian(2);
  private static final GridSpec KARRAS = new GridSpec.Karras(0.002, 80, 7);

  private static Grid geometric(int n) {
    return Oracle.geometric(Edm.DEFAULT, 20, 0.05, n);
  }

  @Test
  void twoSIsSecondOrderForMidpointAndEndpoint() {
    // Measured: 1.96 (r = 1/2) and 1.94 (r = 1) between 20 and 40 steps.
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2S(0.5), g, DpmSolverPlusPlusTest::geometric, 20, 40), 0.15);
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2S(1.0), g, DpmSolverPlusPlusTest::geometric, 20, 40), 0.15);
  }

  @Test
  void twoMIsSecondOrder() {
    // Measured: 1.98 between 40 and 80 steps.
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2M(), g, DpmSolverPlusPlusTest::geometric, 40, 80), 0.15);
  }

  @Test
  void threeMReferenceIsSecondOrderAndTaylorThirdOrder() {
    // The reference d2 weight φ₃ is half the Taylor weight (see DpmSolverPlusPlus3M): measured 2.04 on the
    // Gaussian between 80 and 160 steps. The taylor variant: 3.20 on the mixture between 40 and 80 steps
    // (the Gaussian superconverges, ≈ 4).
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus3M(), g, DpmSolverPlusPlusTest::geometric, 80, 160), 0.15);
    double p = Oracle.order(new DpmSolverPlusPlus3M("taylor"), Oracle.mixture(), DpmSolverPlusPlusTest::geometric,
        40, 80);
    assertEquals(3.0, p, 0.3);
  }

  /**
   * SPEC SMP-14's λ-form (001 Algorithm 7) over process coordinates x with α, σ of VP-linear, in double
   * on the host; the last step to σ = 0 is first order, as in k-diffusion.
   */
  private static double[] lambdaForm2M(GaussianMixture gm, Grid grid, double[] x) {
    double[] xs = x.clone();
    double[] prev = null;
    for (int i = 0; i < grid.steps(); i++) {
      double alpha = grid.alpha(i);
      double[] xHat = new double[xs.length];
      for (int k = 0; k < xs.length; k++) {
        xHat[k] = xs[k] / alpha;
      }
      double[] x0 = gm.denoise(xHat, grid.sigma(i));
      double alphaNext = grid.alpha(i + 1);
      double sigmaNext = grid.sigmaAbs(i + 1);
      double h = grid.lambda(i + 1) - grid.lambda(i);
      double r = prev == null ? 0 : h / (grid.lambda(i) - grid.lambda(i - 1));
      for (int k = 0; k < xs.length; k++) {
        if (sigmaNext == 0) {
          xs[k] = alphaNext * x0[k];
        } else {
          double d = prev == null ? x0[k] : (1 + r / 2) * x0[k] - (r / 2) * prev[k];
          xs[k] = (sigmaNext / grid.sigmaAbs(i)) * xs[k] - alphaNext * Math.expm1(-h) * d;
        }
      }
      prev = x0;
    }
    return xs;
  }

  @Test
  void twoMOnEdmEqualsTheLambdaFormOnVp() {
    for (Grid edm : new Grid[] {KARRAS.build(Edm.DEFAULT, 12), geometric(7)}) {
      Grid vp = Grid.ofSigmas(VpLinear.DEFAULT, edm.sigmas());
      double[] eps = Oracle.normals(6, 1);
      GaussianMixture g1 = Oracle.gaussian(1);
      double[] ref = lambdaForm2M(g1, vp, Oracle.prior(vp, eps));
      double sLast = vp.s(vp.size() - 1);
      for (int k = 0; k < ref.length; k++) {
        ref[k] /= sLast;
      }
      double[] got = SamplerChecks.finalXHat(new DpmSolverPlusPlus2M(), g1.denoiser(), edm, eps, 1);
      assertTrue(Oracle.maxAbs(got, ref) < 1e-12, "max diff " + Oracle.maxAbs(got, ref) + " on " + edm);
    }
  }

  @Test
  void firstStepOfMultistepSolversIsEulerInXHat() {
    // DDIM == DPM-Solver++ first order == Euler in x̂ (SPEC SMP-09, SMP-14).
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, KARRAS.build(Edm.DEFAULT, 8).sigmas());
    double[] x = Oracle.prior(grid, Oracle.normals(4, 2));
    double[] euler = SamplerChecks.afterFirstStep(new Euler(), g.denoiser(), grid, x, 2);
    for (Sampler s : new Sampler[] {new DpmSolverPlusPlus2M(), new DpmSolverPlusPlus3M(),
        new DpmSolverPlusPlus3M("taylor")}) {
      double[] got = SamplerChecks.afterFirstStep(s, g.denoiser(), grid, x, 2);
      assertTrue(Oracle.maxAbs(got, euler) < 1e-12, s + " max diff " + Oracle.maxAbs(got, euler));
    }
  }

  @Test
  void samplersAreProcessInvariantInScaledCoordinates() {
    double[] sg = KARRAS.build(Edm.DEFAULT, 9).sigmas();
    double[] eps = Oracle.normals(4, 2);
    for (Sampler s : new Sampler[] {new DpmSolverPlusPlus2S(0.5), new DpmSolverPlusPlus2M(),
        new DpmSolverPlusPlus3M()}) {
      double[] a = SamplerChecks.finalXHat(s, g.denoiser(), Grid.ofSigmas(Edm.DEFAULT, sg), eps, 2);
      double[] b = SamplerChecks.finalXHat(s, g.denoiser(), Grid.ofSigmas(VpLinear.DEFAULT, sg), eps, 2);
      assertTrue(Oracle.maxAbs(a, b) < 1e-12, s + " max diff " + Oracle.maxAbs(a, b));
    }
  }

  @Test
  void mixtureErrorAgainstExactFlowShrinksOnKarrasGrid() {
    // Measured e10 -> e40: 2s 4.4e-2 -> 3.0e-3, 2m 1.7e-1 -> 6.1e-3, 3m 1.1e-1 -> 1.1e-3, 3m taylor 1.5e-1 -> 2.6e-3.
    SamplerChecks.assertMixtureErrorShrinks(new DpmSolverPlusPlus2S(0.5), new DpmSolverPlusPlus2M(),
        new DpmSolverPlusPlus3M(), new DpmSolverPlusPlus3M("taylor"));
  }

  @Test
  void nfeCounts() {
    double[] eps = Oracle.normals(3, 2);
    Grid toZero = KARRAS.build(Edm.DEFAULT, 10);
    Grid geo = geometric(10);
    int[][] expected = {{19, 20}, {10, 10}, {10, 10}};
    Sampler[] samplers = {new DpmSolverPlusPlus2S(0.5), new DpmSolverPlusPlus2M(), new DpmSolverPlusPlus3M()};
    for (int k = 0; k < samplers.length; k++) {
      int i = 0;
      for (Grid grid : new Grid[] {toZero, geo}) {
        int nfe = Oracle.run(samplers[k], g.denoiser(), grid, Oracle.prior(grid, eps), 2, DataType.FLOAT64,
            NoiseSource.NONE).nfe();
        assertEquals(expected[k][i++], nfe, samplers[k] + " on " + grid);
      }
    }
  }

  @Test
  void liveArrayCountStaysFlatOverLongRuns() {
    for (Sampler s : new Sampler[] {new DpmSolverPlusPlus2S(0.5), new DpmSolverPlusPlus2M(), new DpmSolverPlusPlus3M("taylor")}) {
      assertEquals(2, SamplerChecks.liveArraysAfterRun(s, g, 3), s + " after 3 steps");
      assertEquals(2, SamplerChecks.liveArraysAfterRun(s, g, 60), s + " after 60 steps");
    }
  }

  @Test
  void float32StaysFiniteWithOneToThreeStepsOnEveryProcess() {
    SamplerChecks.assertFiniteInFloat32(g, new DpmSolverPlusPlus2S(0.5), new DpmSolverPlusPlus2S(1),
        new DpmSolverPlusPlus2M(), new DpmSolverPlusPlus3M(), new DpmSolverPlusPlus3M("taylor"));
  }

  @Test
  void registryBuildsAndRejectsBadParameters() {
    assertEquals(new DpmSolverPlusPlus2S(0.5), SamplerRegistry.create("dpmpp-2s", Map.of()));
    assertEquals(new DpmSolverPlusPlus2S(0.25), SamplerRegistry.create("dpmpp-2s", Map.of("r", "0.25")));
    assertEquals(new DpmSolverPlusPlus2M(), SamplerRegistry.create("dpmpp-2m", Map.of()));
    assertEquals(new DpmSolverPlusPlus3M(), SamplerRegistry.create("dpmpp-3m", Map.of()));
    assertEquals(new DpmSolverPlusPlus3M("taylor"), SamplerRegistry.create("dpmpp-3m", Map.of("variant", "taylor")));
    var e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("dpmpp-2s", Map.of("r", "0")));
    assertTrue(e.getMessage().contains("in [0.001, 1]") && e.getMessage().contains("got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpmpp-3m", Map.of("variant", "4th")));
    assertTrue(e.getMessage().contains("reference, taylor") && e.getMessage().contains("4th"), e.getMessage());
  }
}
