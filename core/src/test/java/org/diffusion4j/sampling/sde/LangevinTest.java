package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VarianceExploding;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** The Langevin-based samplers: predictor–corrector (pc) and annealed Langevin dynamics (ald). */
class LangevinTest {
  private final GaussianMixture gaussian = Oracle.gaussian(2);
  private final GaussianMixture mixture = Oracle.mixture();

  @Test
  void langevinCorrectorPreservesTheMarginalAtAFixedTime() {
    // 200 corrector steps at grid point 0 (VP, σ = 0.8) from exact p_t draws: with r = 0.1 the step is
    // ε ≈ 2r²·Var = 0.02·Var, the chain decorrelates (0.98^200 ≈ 0.02) and the moments stay those of
    // p_σ. ULA's own bias is about ε/2 of the variance (1%): allowance 4 SE + 2%.
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, 0.8, 0.5, 0);
    for (GaussianMixture gm : List.of(gaussian, mixture)) {
      double[] x = SdeTesting.start(gm, grid, SdeTesting.N);
      SeededNoise noise = new SeededNoise(SdeTesting.seeds(SdeTesting.N, 4242));
      double[] out;
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray xa = m.create(x, new Shape(SdeTesting.N, 2));
        for (int k = 0; k < 200; k++) {
          try (StepScope step = new StepScope()) {
            NDArray next = step.keep(PredictorCorrector.langevin(gm.denoiser(), grid, 0, xa, noise, 0.1));
            xa.close();
            xa = next;
          }
        }
        out = xa.div(grid.s(0)).toDoubleArray();
      }
      SdeTesting.assertMoments("langevin corrector, " + gm.components() + " components", out, gm, 0.8, 0.02);
    }
  }

  @Test
  void pcReachesTheDataMomentsOnVeAndVp() {
    // score_sde's defaults (r = 0.16, one corrector step), 400 steps; 4 SE + 3% allowance (the corrector's
    // own bias is about r² ≈ 2.6% of the variance per correction).
    for (Grid grid : List.of(new GridSpec.Exponential(Double.NaN, Double.NaN).build(VarianceExploding.DEFAULT, 400),
        new GridSpec.VpTime(0.1, 20, 1e-3).build(VpLinear.DEFAULT, 400))) {
      for (GaussianMixture gm : List.of(gaussian, mixture)) {
        double[] x = SdeTesting.sample(new PredictorCorrector(), gm, grid, SdeTesting.N);
        SdeTesting.assertMoments("pc on " + grid.process().id() + ", " + gm.components() + " components", x, gm,
            0, 0.03);
      }
    }
  }

  @Test
  void pcWithoutCorrectorIsEulerMaruyama() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 15);
    double[] x = Oracle.prior(grid, Oracle.normals(6, 2));
    double[] a = SdeTesting.runHat(new PredictorCorrector(0.16, 0), mixture, grid, x,
        new SeededNoise(SdeTesting.seeds(6, 3)));
    double[] b = SdeTesting.runHat(new EulerMaruyama(), mixture, grid, x, new SeededNoise(SdeTesting.seeds(6, 3)));
    assertEquals(0, Oracle.maxAbs(a, b), 0, "pc with corrector-steps=0 vs euler-maruyama");
  }

  @Test
  void pcNfeIsStepsTimesCorrectorStepsPlusOne() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 9);
    Oracle.Run r = Oracle.run(new PredictorCorrector(0.16, 2), gaussian.denoiser(), grid,
        Oracle.prior(grid, Oracle.normals(3, 2)), 2, DataType.FLOAT64, new SeededNoise(1, 2, 3));
    assertEquals(27, r.nfe());
  }

  @Test
  void annealedLangevinAtOneLevelPreservesTheMarginal() {
    // Grid [σ, 0] without the final denoising: 200 Langevin steps at σ with η = ε = 0.01 from exact p_σ
    // draws keep p_σ's moments (ULA bias ~η/2 of the variance); allowance 4 SE + 2%.
    double sigma = 0.5;
    Grid grid = Grid.ofSigmas(Edm.DEFAULT, sigma, 0);
    for (GaussianMixture gm : List.of(gaussian, mixture)) {
      double[] out = SdeTesting.sample(new AnnealedLangevin(200, 0.01, false), gm, grid, SdeTesting.N);
      SdeTesting.assertMoments("ald at one level, " + gm.components() + " components", out, gm, sigma, 0.02);
    }
  }

  @Test
  void annealedLangevinReachesTheDataMoments() {
    // NCSN's setting: 10 geometric levels 10 → 0.01, then 0; 100 steps per level, ε = 2e-5 and the final
    // denoising; on VE and (σ-grid, x̂ view) on VP. Allowance 4 SE + 3%.
    double[] sg = new double[11];
    for (int i = 0; i < 10; i++) {
      sg[i] = 10 * Math.pow(1e-3, i / 9.0);
    }
    for (Grid grid : List.of(Grid.ofSigmas(VarianceExploding.DEFAULT, sg), Grid.ofSigmas(VpLinear.DEFAULT, sg))) {
      for (GaussianMixture gm : List.of(gaussian, mixture)) {
        double[] out = SdeTesting.sample(new AnnealedLangevin(100, 2e-5, true), gm, grid, SdeTesting.N);
        SdeTesting.assertMoments("ald on " + grid.process().id() + ", " + gm.components() + " components", out,
            gm, 0, 0.03);
      }
    }
  }

  @Test
  void finalDenoisingIsTheDenoiserAtTheSmallestLevel() {
    Grid grid = new GridSpec.Karras(0.05, 10, 7).build(Edm.DEFAULT, 4);
    double[] x = Oracle.prior(grid, Oracle.normals(5, 2));
    double[] noisy = SdeTesting.runHat(new AnnealedLangevin(3, 1e-3, false), mixture, grid, x,
        new SeededNoise(SdeTesting.seeds(5, 8)));
    double[] denoised = SdeTesting.runHat(new AnnealedLangevin(3, 1e-3, true), mixture, grid, x,
        new SeededNoise(SdeTesting.seeds(5, 8)));
    double[] want = mixture.denoise(noisy, 0.05);
    assertTrue(Oracle.maxAbs(denoised, want) < 1e-14, "diff " + Oracle.maxAbs(denoised, want));
  }

  @Test
  void aldNfeIsLevelsTimesStepsPlusTheDenoising() {
    Grid grid = new GridSpec.Karras(0.01, 10, 7).build(Edm.DEFAULT, 6);
    double[] x = Oracle.prior(grid, Oracle.normals(2, 2));
    assertEquals(6 * 4 + 1, Oracle.run(new AnnealedLangevin(4, 2e-5, true), gaussian.denoiser(), grid, x, 2,
        DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
    assertEquals(6 * 4, Oracle.run(new AnnealedLangevin(4, 2e-5, false), gaussian.denoiser(), grid, x, 2,
        DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
    Grid noZero = Oracle.geometric(Edm.DEFAULT, 10, 0.1, 5);
    assertEquals(6 * 4, Oracle.run(new AnnealedLangevin(4, 2e-5, true), gaussian.denoiser(), noZero, x, 2,
        DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
  }
}
