package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VarianceExploding;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class EulerMaruyamaTest {
  private final GaussianMixture gaussian = Oracle.gaussian(2);
  private final GaussianMixture mixture = Oracle.mixture();

  /** Each process on its natural grid: uniform t for VP and VE, Karras ρ = 7 for EDM and flow. */
  static List<Grid> grids(int steps) {
    return List.of(new GridSpec.VpTime(0.1, 20, 1e-3).build(VpLinear.DEFAULT, steps),
        new GridSpec.Exponential(Double.NaN, Double.NaN).build(VarianceExploding.DEFAULT, steps),
        new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(Edm.DEFAULT, steps),
        new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(RectifiedFlow.DEFAULT, steps));
  }

  @Test
  void reachesTheDataMomentsOnVpVeEdmAndFlow() {
    // 400 steps from exact p_σmax draws; allowance 4 standard errors + 2% for the EM bias (measured: the
    // worst run deviates by 0.45 of the pure 4-SE band).
    for (Grid grid : grids(400)) {
      for (GaussianMixture gm : List.of(gaussian, mixture)) {
        double[] x = SdeTesting.sample(new EulerMaruyama(), gm, grid, SdeTesting.N);
        SdeTesting.assertMoments("euler-maruyama on " + grid.process().id() + ", " + gm.components()
            + " components", x, gm, 0, 0.02);
      }
    }
  }

  @Test
  void meanErrorShrinksFirstOrderAsStepsGrow() {
    // For Gaussian data N(μ, s²) the exact denoiser is affine, so every step is affine in (x, z): a run
    // with zero noise gives the exact mean of the EM output law from a fixed start. The exact reverse SDE
    // from a fixed x̂_0 has mean μ + (x̂_0 − μ)(s² + σ²)/(s² + σ_0²) at σ (in x̂ and σ the same SDE for
    // every process), and the final Tweedie step keeps that law's mean, so at σ = 0 it is
    // μ + (x̂_0 − μ)s²/(s² + σ_0²). Start one prior std from μ; the error should halve as the step count
    // doubles (weak order 1; measured ratios 1.73–2.0 from 100 steps on).
    double[] prev = null;
    for (int steps : new int[] {100, 200, 400, 800}) {
      List<Grid> gs = grids(steps);
      double[] errs = new double[gs.size()];
      for (int g = 0; g < gs.size(); g++) {
        Grid grid = gs.get(g);
        double s0 = grid.sigma(0);
        double xHat0 = 0.7 + s0;
        double[] x = {grid.s(0) * xHat0, grid.s(0) * xHat0};
        double[] out = SdeTesting.runHat(new EulerMaruyama(), gaussian, grid, x, SdeTesting.constant(0));
        double exact = 0.7 + s0 * 0.25 / (0.25 + s0 * s0);
        errs[g] = Math.abs(out[0] - exact);
        if (prev != null) {
          double ratio = prev[g] / errs[g];
          assertTrue(ratio > 1.6 && ratio < 2.4, grid.process().id() + ": mean error " + prev[g] + " -> "
              + errs[g] + " from " + steps / 2 + " to " + steps + " steps (ratio " + ratio + ", want ~2)");
        }
      }
      prev = errs;
    }
    for (double e : prev) {
      assertTrue(e < 1e-3, "800-step mean error " + e);
    }
  }

  @Test
  void lastStepIntoZeroReturnsTheDenoisedEstimate() {
    // One step from σ_0 to 0 is the x0-estimate (Tweedie): s_N·D(x/s_0; σ_0), whatever the noise.
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, 2.0, 0);
    double[] x = Oracle.prior(grid, Oracle.normals(5, 2));
    double[] got = SdeTesting.runHat(new EulerMaruyama(), mixture, grid, x, new SeededNoise(1, 2, 3, 4, 5));
    double[] xHat = x.clone();
    for (int k = 0; k < xHat.length; k++) {
      xHat[k] /= grid.s(0);
    }
    double[] want = mixture.denoise(xHat, 2.0);
    assertTrue(Oracle.maxAbs(got, want) < 1e-14, "diff " + Oracle.maxAbs(got, want));
  }

  @Test
  void lastStepToSigmaMinIsTheNoiseFreeMean() {
    // A grid ending at σ_min > 0: the last step adds no noise (score_sde's x_mean).
    Grid grid = Oracle.geometric(Edm.DEFAULT, 10, 0.5, 1);
    double[] x = Oracle.prior(grid, Oracle.normals(3, 2));
    double[] a = SdeTesting.runHat(new EulerMaruyama(), gaussian, grid, x, new SeededNoise(1, 2, 3));
    double[] b = SdeTesting.runHat(new EulerMaruyama(), gaussian, grid, x, new SeededNoise(7, 8, 9));
    assertEquals(0, Oracle.maxAbs(a, b), 1e-15);
    // EM mean on EDM (f = 0, g² = 2t): x + 2(Δσ/σ)(D − x), Δσ = 9.5.
    double[] d = gaussian.denoise(x, 10);
    for (int k = 0; k < x.length; k++) {
      assertEquals(x[k] + 2 * 0.95 * (d[k] - x[k]), a[k], 1e-12);
    }
  }

  @Test
  void nfeIsOnePerStep() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 17);
    Oracle.Run r = Oracle.run(new EulerMaruyama(), gaussian.denoiser(), grid,
        Oracle.prior(grid, Oracle.normals(3, 2)), 2, DataType.FLOAT64, new SeededNoise(1, 2, 3));
    assertEquals(17, r.nfe());
  }
}
