package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;

class DpmSolverV3Test {
  private final GaussianMixture mix = Oracle.mixture();

  private static Oracle.Run run(Sampler s, GaussianMixture g, Grid grid, int n) {
    return Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(n, g.dim())), g.dim(),
        DataType.FLOAT64, NoiseSource.NONE);
  }

  private static DpmSolverV3 v3(int order, boolean corrector, boolean lof, ModelStatistics st) {
    return new DpmSolverV3(order, corrector, lof, st, "test");
  }

  private static Grid[] grids(int steps) {
    return new Grid[] {GridSpec.karras().build(Edm.DEFAULT, steps),
        new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, steps),
        Oracle.geometric(VpLinear.DEFAULT, 80, 0.01, steps)};
  }

  private static void assertSame(Sampler want, Sampler got, GaussianMixture g, Grid grid) {
    double[] a = run(want, g, grid, 8).x();
    double[] b = run(got, g, grid, 8).x();
    double scale = 0;
    for (double v : a) {
      scale = Math.max(scale, Math.abs(v));
    }
    double err = Oracle.maxAbs(a, b) / scale;
    assertTrue(err < 1e-12, got + " vs " + want + " on " + grid + ": relative difference " + err);
  }

  @Test
  void dataPredictionStatisticsAreDpmSolverPlusPlus() {
    ModelStatistics data = ModelStatistics.dataPrediction();
    for (int steps : new int[] {3, 6, 12}) {
      for (Grid grid : grids(steps)) {
        // Order 1: DDIM; order 2: DPM-Solver++(2M) Taylor form (with and without lower-order final steps);
        // order 3: DPM-Solver++(3M) Taylor form.
        assertSame(new Ddim(0), v3(1, false, true, data), mix, grid);
        assertSame(new DpmSolver(2, "multistep", true, false, true, false), v3(2, false, false, data), mix, grid);
        assertSame(new DpmSolver(2, "multistep", true, true, true, false), v3(2, false, true, data), mix, grid);
        assertSame(new DpmSolverPlusPlus3M("taylor"), v3(3, false, false, data), mix, grid);
      }
    }
  }

  @Test
  void noisePredictionStatisticsAreDpmSolver() {
    ModelStatistics noise = ModelStatistics.noisePrediction();
    for (int steps : new int[] {3, 7}) {
      for (Grid grid : grids(steps)) {
        assertSame(new Ddim(0), v3(1, false, true, noise), mix, grid);
        assertSame(new DpmSolver(2, "multistep", true, false, false, false), v3(2, false, false, noise), mix, grid);
      }
    }
  }

  @Test
  void zeroStatisticsAreEulerInLambdaOnTheScaledState() {
    // ℓ = s = b = 0: f = x̂ − D = e^{−λ}ε̂ held constant, i.e. x̂_t = x̂_s − h (x̂_s − D_s).
    Grid grid = Grid.ofSigmas(Edm.DEFAULT, 3.0, 1.2);
    double[] x = {0.7, -2.1, 1.4, 0.3};
    double h = Math.log(3.0 / 1.2);
    double[] d = mix.denoise(x, 3.0);
    double[] got = Oracle.run(v3(1, false, true, ModelStatistics.constant(0, 0, 0, "zero")), mix.denoiser(), grid, x,
        2, DataType.FLOAT64, NoiseSource.NONE).x();
    for (int i = 0; i < 4; i++) {
      assertEquals(x[i] - h * (x[i] - d[i]), got[i], 1e-13);
    }
  }

  @Test
  void convergenceOrders() {
    ModelStatistics data = ModelStatistics.dataPrediction();
    java.util.function.IntFunction<Grid> vp = n -> Oracle.geometric(VpLinear.DEFAULT, 80, 0.05, n);
    java.util.function.IntFunction<Grid> edm = n -> Oracle.geometric(Edm.DEFAULT, 80, 0.05, n);
    assertEquals(1.0, Oracle.order(v3(1, false, false, data), mix, vp, 40, 80), 0.1);
    assertEquals(2.0, Oracle.order(v3(2, false, false, data), mix, vp, 40, 80), 0.15);
    assertEquals(3.0, Oracle.order(v3(3, false, false, data), mix, edm, 40, 80), 0.3);
    // The corrector raises the order by one (UniC-like): order 1 + corrector converges with order 2.
    assertEquals(2.0, Oracle.order(v3(1, true, false, data), mix, edm, 40, 80), 0.2);
    assertEquals(3.0, Oracle.order(v3(2, true, false, data), mix, edm, 40, 80), 0.3);
  }

  /** Closed-form EMS of a Gaussian N(μ, v I): ℓ = σ²/(v + σ²), s = 0, b = 2μ ℓ(1 − ℓ) (N is constant in x). */
  static ModelStatistics gaussianStatistics(GaussianMixture g, double sigmaMin, double sigmaMax, int knots) {
    double[] lam = new EmsEstimator.Calibration(sigmaMin, sigmaMax, knots, 2, 0, 1).lambdas();
    int dim = g.dim();
    double v = g.stds()[0] * g.stds()[0];
    double[][] l = new double[knots][dim];
    double[][] s = new double[knots][dim];
    double[][] b = new double[knots][dim];
    for (int k = 0; k < knots; k++) {
      double sg2 = Math.exp(-2 * lam[k]);
      double w = sg2 / (v + sg2);
      for (int d = 0; d < dim; d++) {
        l[k][d] = w;
        b[k][d] = 2 * g.means()[0][d] * w * (1 - w);
      }
    }
    return new ModelStatistics(lam, l, s, b, new long[] {dim}, "closed form");
  }

  @Test
  void estimatorRecoversTheGaussianClosedForm() {
    GaussianMixture g = Oracle.gaussian(3);
    ModelStatistics exact = gaussianStatistics(g, 0.01, 80, 41);
    ModelStatistics est;
    try (NDManager m = NDManager.newBaseManager()) {
      est = EmsEstimator.estimate(g.denoiser(), new long[] {3}, new EmsEstimator.Calibration(0.01, 80, 41, 64, 7, 32),
          m, DataType.FLOAT64, "test");
    }
    double dl = 0;
    double ds = 0;
    double db = 0;
    double bMax = 0;
    for (int k = 0; k < 41; k++) {
      for (int d = 0; d < 3; d++) {
        dl = Math.max(dl, Math.abs(est.l()[k][d] - exact.l()[k][d]));
        ds = Math.max(ds, Math.abs(est.s()[k][d]));
        db = Math.max(db, Math.abs(est.b()[k][d] - exact.b()[k][d]));
        bMax = Math.max(bMax, Math.abs(exact.b()[k][d]));
      }
    }
    System.out.printf("gaussian EMS: max |dl| %.2e, max |s| %.2e, max |db| %.2e (max b %.3f)%n", dl, ds, db, bMax);
    assertTrue(dl < 1e-7, "l off by " + dl);
    assertTrue(ds < 1e-3, "s should vanish, got " + ds);
    assertTrue(db < 0.02 * bMax, "b off by " + db + " (max b " + bMax + ")");
  }

  @Test
  void exactStatisticsMakeTheGaussianFlowExactAtFewSteps() {
    GaussianMixture g = Oracle.gaussian(2);
    ModelStatistics exact = gaussianStatistics(g, 0.002, 80, 401);
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 3);
    double v3 = Oracle.error(v3(1, false, true, exact), g, grid, 16);
    double pp = Oracle.error(new DpmSolver(2, "multistep", true, true, true, false), g, grid, 16);
    System.out.printf("gaussian, 3 steps: v3 (exact EMS, order 1) %.3e, dpm-solver++ 2M %.3e%n", v3, pp);
    assertTrue(v3 < 1e-3 && v3 < pp / 100, "v3 " + v3 + " vs dpm-solver++ " + pp);
  }

  private static ModelStatistics mixtureStats;

  /** The 2-D test mixture's statistics: σ 0.002 … 80, 120 knots, 256 trajectories (seeds 99…). */
  static synchronized ModelStatistics mixtureStatistics() {
    if (mixtureStats == null) {
      try (NDManager m = NDManager.newBaseManager()) {
        mixtureStats = EmsEstimator.estimate(Oracle.mixture().denoiser(), new long[] {2},
            new EmsEstimator.Calibration(0.002, 80, 120, 256, 99, 256), m, DataType.FLOAT64, "test mixture");
      }
    }
    return mixtureStats;
  }

  @Test
  void estimatedStatisticsBeatDpmSolverPlusPlusAtFewSteps() {
    ModelStatistics st = mixtureStatistics();
    Sampler v3 = new DpmSolverV3(2, true, true, st, "estimated");
    Sampler v3p = new DpmSolverV3(2, false, true, st, "estimated");
    Sampler taylor = new DpmSolver(2, "multistep", true, true, true, false);
    Sampler mid = new DpmSolverPlusPlus2M();
    for (int nfe : new int[] {5, 6, 8, 10}) {
      Grid grid = GridSpec.karras().build(Edm.DEFAULT, nfe);
      double e = Oracle.error(v3, mix, grid, 64);
      double ep = Oracle.error(v3p, mix, grid, 64);
      double t = Oracle.error(taylor, mix, grid, 64);
      double m = Oracle.error(mid, mix, grid, 64);
      System.out.printf("mixture NFE %d: v3 %.3e, v3 predictor only %.3e, dpm-solver++ 2M taylor %.3e, dpmpp-2m %.3e%n",
          nfe, e, ep, t, m);
      // Same order and grid as DPM-Solver++(2M) in the Taylor form, which v3 generalises: never worse with the
      // corrector; the predictor alone ties at NFE 5 (within 5 %) and wins above. k-diffusion's midpoint form
      // dpmpp-2m is beaten from NFE 6 on (at 5 they are within 15 %).
      assertTrue(e <= t, "NFE " + nfe + ": v3 " + e + " vs dpm-solver++ " + t);
      assertTrue(ep <= (nfe == 5 ? 1.05 : 1) * t, "NFE " + nfe + ": v3 predictor " + ep + " vs dpm-solver++ " + t);
      assertTrue(e <= (nfe == 5 ? 1.15 : 1) * m, "NFE " + nfe + ": v3 " + e + " vs dpmpp-2m " + m);
    }
  }

  @Test
  void finiteInFloat32AtFewSteps() {
    OdeChecks.assertFiniteInFloat32(new DpmSolverV3(2, true, true, ModelStatistics.dataPrediction(), "data"), mix);
    OdeChecks.assertFiniteInFloat32(new DpmSolverV3(3, true, true, ModelStatistics.noisePrediction(), "noise"), mix);
    ModelStatistics st = mixtureStatistics();
    for (int order = 1; order <= 3; order++) {
      for (int steps = 1; steps <= 5; steps++) {
        Grid grid = GridSpec.karras().build(Edm.DEFAULT, steps);
        double[] x = Oracle.run(new DpmSolverV3(order, true, true, st, "est"), mix.denoiser(), grid,
            Oracle.prior(grid, Oracle.normals(5, 2)), 2, DataType.FLOAT32, NoiseSource.NONE).x();
        for (double v : x) {
          assertTrue(Double.isFinite(v), "order " + order + ", " + steps + " steps: " + v);
        }
      }
    }
  }

  @Test
  void memoryStaysFlat() {
    OdeChecks.assertMemoryFlat(new DpmSolverV3(3, true, true, ModelStatistics.dataPrediction(), "data"), mix);
  }

  @Test
  void statisticsFileRoundTripsAndRunsFromTheRegistry(@TempDir Path dir) throws Exception {
    ModelStatistics st = mixtureStatistics();
    Path f = dir.resolve("stats.json");
    st.write(f);
    ModelStatistics back = ModelStatistics.read(f);
    assertTrue(java.util.Arrays.deepEquals(st.l(), back.l()) && java.util.Arrays.deepEquals(st.s(), back.s())
        && java.util.Arrays.deepEquals(st.b(), back.b()) && java.util.Arrays.equals(st.lambdas(), back.lambdas()));
    Grid grid = GridSpec.karras().build(Edm.DEFAULT, 6);
    Sampler fromFile = SamplerRegistry.create("dpm-solver-v3", Map.of("stats", f.toString()));
    double[] a = run(fromFile, mix, grid, 4).x();
    double[] b = run(new DpmSolverV3(2, true, true, st, "mem"), mix, grid, 4).x();
    assertEquals(0, Oracle.maxAbs(a, b), 0);
    // Without statistics: the data-prediction ones.
    DpmSolverV3 plain = (DpmSolverV3) SamplerRegistry.create("dpm-solver-v3", Map.of());
    assertTrue(plain.stats().isConstant() && plain.stats().l()[0][0] == 1 && plain.stats().s()[0][0] == 0);
    // corrector=auto: on with a file, off without (then exactly DPM-Solver++(2M), Taylor form).
    assertTrue(((DpmSolverV3) fromFile).corrector() && !plain.corrector());
    assertSame(new DpmSolver(2, "multistep", true, true, true, false), plain, mix, grid);
    assertTrue(((DpmSolverV3) SamplerRegistry.create("dpm-solver-v3", Map.of("corrector", "true"))).corrector());
  }

  @Test
  void wrongStatisticsAreRefusedClearly(@TempDir Path dir) throws Exception {
    ModelStatistics st = mixtureStatistics();
    // Another model's statistics (3-D samples).
    GaussianMixture g3 = Oracle.gaussian(3);
    Grid edm = GridSpec.karras().build(Edm.DEFAULT, 5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(new DpmSolverV3(2, true, true, st, "m.json"), g3, edm, 2));
    assertTrue(e.getMessage().contains("m.json") && e.getMessage().contains("[2]") && e.getMessage().contains("3 values"),
        e.getMessage());
    // A process whose σ range the statistics do not cover (VP reaches σ ≈ 157 > 80).
    Grid vp = new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(VpLinear.DEFAULT, 5);
    e = assertThrows(IllegalArgumentException.class, () -> run(new DpmSolverV3(2, true, true, st, "m.json"), mix, vp, 2));
    assertTrue(e.getMessage().contains("cover sigma 0.00200000 to 80.0000") && e.getMessage().contains("process vp"),
        e.getMessage());
    // A grid below their σ_min (other than the final 0).
    Grid low = Grid.ofSigmas(Edm.DEFAULT, 80, 1, 0.001, 0);
    e = assertThrows(IllegalArgumentException.class, () -> run(new DpmSolverV3(2, true, true, st, "m.json"), mix, low, 2));
    assertTrue(e.getMessage().contains("point 2 has sigma 0.00100000"), e.getMessage());
    // Not a statistics file / a corrupt one / a missing one.
    Path model = dir.resolve("model.json");
    Files.writeString(model, mix.toJson());
    e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpm-solver-v3", Map.of("stats", model.toString())));
    assertTrue(e.getMessage().contains("\"format\" must be \"dpm-solver-v3-statistics\""), e.getMessage());
    Path bad = dir.resolve("bad.json");
    Files.writeString(bad, st.toJson().replaceFirst("\"l\":\\[\\[[^,\\]]*", "\"l\":[[1e999"));
    e = assertThrows(IllegalArgumentException.class, () -> ModelStatistics.read(bad));
    assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("finite"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpm-solver-v3", Map.of("stats", dir.resolve("none.json").toString())));
    assertTrue(e.getMessage().contains("no file") && e.getMessage().contains("data, noise"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new EmsEstimator.Calibration(0.5, 0.1, 10, 10, 0, 1));
    assertTrue(e.getMessage().contains("sigma-min 0.5"), e.getMessage());
  }
}
