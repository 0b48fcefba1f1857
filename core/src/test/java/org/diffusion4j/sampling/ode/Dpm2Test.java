package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class Dpm2Test {
  private final GaussianMixture g = Oracle.gaussian(2);

  @Test
  void isSecondOrder() {
    double p = Oracle.order(new Dpm2(), g, n -> Oracle.geometric(Edm.DEFAULT, 20, 0.05, n), 20, 40);
    assertEquals(2.0, p, 0.15);
  }

  @Test
  void matchesHostTransliterationOfKDiffusionOnVp() {
    // k-diffusion sample_dpm_2 (s_churn = 0) written out on host doubles with the exact mixture denoiser:
    // σ_mid = exp(lerp(log σ, log σ_next, ½)), x₂ = x + d·(σ_mid − σ), x += d(x₂, σ_mid)·(σ_next − σ),
    // Euler when σ_next = 0. Run on VP: the sampler works in x̂ = x/s.
    GaussianMixture gm = Oracle.mixture();
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, new GridSpec.Karras(0.01, 80, 7).build(Edm.DEFAULT, 7).sigmas());
    double[] x = Oracle.prior(grid, Oracle.normals(8, 2));
    double[] ref = new double[x.length];
    for (int k = 0; k < x.length; k++) {
      ref[k] = x[k] / grid.s(0);
    }
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      double sigmaNext = grid.sigma(i + 1);
      double[] d = slope(gm, ref, sigma);
      if (sigmaNext == 0) {
        for (int k = 0; k < ref.length; k++) {
          ref[k] += d[k] * (sigmaNext - sigma);
        }
      } else {
        double sigmaMid = Math.exp(Math.log(sigma) + 0.5 * (Math.log(sigmaNext) - Math.log(sigma)));
        double[] x2 = new double[ref.length];
        for (int k = 0; k < ref.length; k++) {
          x2[k] = ref[k] + d[k] * (sigmaMid - sigma);
        }
        double[] d2 = slope(gm, x2, sigmaMid);
        for (int k = 0; k < ref.length; k++) {
          ref[k] += d2[k] * (sigmaNext - sigma);
        }
      }
    }
    Oracle.Run r = Oracle.run(new Dpm2(), gm.denoiser(), grid, x, 2, ai.djl.ndarray.types.DataType.FLOAT64,
        org.diffusion4j.sampling.NoiseSource.NONE);
    assertTrue(Oracle.maxAbs(r.x(), ref) < 1e-12, "dpm2 vs host k-diffusion: " + Oracle.maxAbs(r.x(), ref));
    assertEquals(2 * 6 + 1, r.nfe());
  }

  private static double[] slope(GaussianMixture gm, double[] x, double sigma) {
    double[] den = gm.denoise(x, sigma);
    double[] d = new double[x.length];
    for (int k = 0; k < x.length; k++) {
      d[k] = (x[k] - den[k]) / sigma;
    }
    return d;
  }

  @Test
  void mixtureConvergesToExactFlowOnKarrasGrid() {
    GaussianMixture gm = Oracle.mixture();
    double e10 = Oracle.error(new Dpm2(), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 10), 32);
    double e40 = Oracle.error(new Dpm2(), gm, new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 40), 32);
    assertTrue(e40 < e10 / 8, "dpm2 error should shrink ~16x from 10 to 40 steps: " + e10 + " -> " + e40);
    assertTrue(e40 < 1e-2, "dpm2 40 steps error " + e40);
  }

  @Test
  void nfeIsTwoPerStepButOneOnTheLastStepToZero() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 18);
    assertEquals(2 * 17 + 1, OdeChecks.run(new Dpm2(), g, grid, 3).nfe());
  }

  @Test
  void lastStepToZeroIsEuler() {
    OdeChecks.assertLastStepIsEuler(new Dpm2(), Oracle.mixture());
  }

  @Test
  void float32StaysFiniteWithOneToThreeSteps() {
    OdeChecks.assertFiniteInFloat32(new Dpm2(), g);
  }

  @Test
  void memoryStaysFlat() {
    OdeChecks.assertMemoryFlat(new Dpm2(), Oracle.mixture());
  }
}
