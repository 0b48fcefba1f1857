package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/**
 * The reverse-SDE family γ = η·g: its two ends against the project's own PF-ODE and reverse-SDE samplers
 * (to the bit in the frame each of them runs in, to round-off across frames on EDM), its marginals
 * against the exact law of the discretised chain and the data, and its edge cases.
 */
class ReverseSdeFamilyTest {
  private final GaussianMixture mixture = Oracle.mixture();
  private final GaussianMixture gaussian = Oracle.gaussian(2);

  private static Sampler sde(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return SamplerRegistry.create("sde", m);
  }

  /** A Karras grid ending at 0 and a geometric one ending at σ_min > 0, for every process. */
  private static List<Grid> grids(int steps) {
    List<Grid> out = new ArrayList<>();
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      out.add(GridSpec.karras().build(p, steps));
      out.add(Oracle.geometric(p, p.sigmaMax(), Math.max(p.sigmaMin(), 0.05), steps));
    }
    return out;
  }

  private double[] run(Sampler s, Grid g, GaussianMixture gm, NoiseSource noise, DataType dt) {
    return Oracle.run(s, gm.denoiser(), g, Oracle.prior(g, Oracle.normals(6, 2)), 2, dt, noise).x();
  }

  @Test
  void etaZeroInTheSigmaFrameIsEulerAndHeunBitForBit() {
    for (Grid g : grids(12)) {
      String what = g.process().id() + " to σ " + g.sigma(g.steps());
      assertEquals(0, Oracle.maxAbs(run(sde("eta", "0"), g, mixture, NoiseSource.NONE, DataType.FLOAT64),
          run(new Euler(), g, mixture, NoiseSource.NONE, DataType.FLOAT64)), 0, "euler on " + what);
      assertEquals(0, Oracle.maxAbs(run(sde("eta", "0", "method", "heun"), g, mixture, NoiseSource.NONE,
          DataType.FLOAT64), run(new Heun(), g, mixture, NoiseSource.NONE, DataType.FLOAT64)), 0, "heun on " + what);
    }
    assertTrue(!sde("eta", "0").stochastic() && sde().stochastic());
  }

  @Test
  void etaOneInTheTimeFrameIsEulerMaruyamaWithTheSameNoise() {
    for (Grid g : grids(8)) {
      double[] a = run(sde("frame", "time"), g, mixture, new SeededNoise(1, 2, 3, 4, 5, 6), DataType.FLOAT64);
      double[] b = run(new EulerMaruyama(), g, mixture, new SeededNoise(1, 2, 3, 4, 5, 6), DataType.FLOAT64);
      assertEquals(0, Oracle.maxAbs(a, b), 0, "on " + g.process().id() + " to σ " + g.sigma(g.steps()));
    }
  }

  @Test
  void onEdmTheTwoFramesAreOneSchemeToRoundOff() {
    // s = 1, σ = t: f = 0, g² = 2σ, so Euler–Maruyama in t is Euler–Maruyama in σ; independent code paths.
    for (Grid g : List.of(GridSpec.karras().build(Edm.DEFAULT, 20), Oracle.geometric(Edm.DEFAULT, 80, 0.01, 7))) {
      double[] sigmaOne = run(sde(), g, mixture, new SeededNoise(1, 2, 3, 4, 5, 6), DataType.FLOAT64);
      double[] em = run(new EulerMaruyama(), g, mixture, new SeededNoise(1, 2, 3, 4, 5, 6), DataType.FLOAT64);
      assertTrue(Oracle.maxAbs(sigmaOne, em) < 1e-12, "σ-frame η = 1 vs euler-maruyama " + Oracle.maxAbs(sigmaOne, em));
      double[] timeZero = run(sde("eta", "0", "frame", "time"), g, mixture, NoiseSource.NONE, DataType.FLOAT64);
      double[] euler = run(new Euler(), g, mixture, NoiseSource.NONE, DataType.FLOAT64);
      assertTrue(Oracle.maxAbs(timeZero, euler) < 1e-12, "time-frame η = 0 vs euler " + Oracle.maxAbs(timeZero, euler));
    }
  }

  /**
   * The exact law of the σ-frame chain on N(μ, s²) per coordinate: with the affine exact denoiser a step is
   * x̂' − μ = A(x̂ − μ) + b·z, A = 1 + (1 + r)hσ/(s² + σ²) (h = σ' − σ), b² = 2rσ|h| (0 on the last step), and
   * with Heun A is the average slope's gain. Returns {mean offset factor, variance} from N(μ, s² + σ_0²).
   */
  private static double law(Grid g, double s, double eta, boolean heun) {
    double v = s * s + g.sigma(0) * g.sigma(0);
    for (int i = 0; i < g.steps(); i++) {
      double sg = g.sigma(i);
      double sn = g.sigma(i + 1);
      double r = sn == 0 ? 0 : eta * eta;
      double dt = (1 + r) * (sn - sg);
      double b2 = i == g.steps() - 1 ? 0 : r * 2 * sg * (sg - sn);
      double a1 = sg / (s * s + sg * sg);
      if (!heun || sn == 0) {
        double a = 1 + dt * a1;
        v = a * a * v + b2;
      } else {
        // x2 − μ = A1(x − μ) + bz;  next − μ = (x − μ) + dt/2·(a1(x − μ) + a2(x2 − μ)) + bz.
        double a2 = sn / (s * s + sn * sn);
        double big1 = 1 + dt * a1;
        double gain = 1 + dt / 2 * (a1 + a2 * big1);
        double noiseGain = dt / 2 * a2 + 1;
        v = gain * gain * v + noiseGain * noiseGain * b2;
      }
    }
    return v;
  }

  @Test
  void everyEtaKeepsTheDataMarginalOnAGaussianWithinFourStandardErrors() {
    // The marginal does not depend on γ: on N(0.7, 0.5²) the chain's exact law (above) tends to the data
    // variance for every η, first order in the steps (from 100 to 400 steps the deviation shrinks ≥ 3×, to
    // < 1.5 %), and 4000 seeded samples at 100 steps match that law within 4 standard errors, no allowance.
    Grid g = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 100);
    Grid fine = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 400);
    for (Object[] c : new Object[][] {{0.3, false}, {1.0, false}, {0.6, true}}) {
      double eta = (double) c[0];
      boolean heun = (boolean) c[1];
      String what = "η " + eta + (heun ? " heun" : "");
      double v = law(g, 0.5, eta, heun);
      double dev = Math.abs(v / 0.25 - 1);
      double devFine = Math.abs(law(fine, 0.5, eta, heun) / 0.25 - 1);
      assertTrue(devFine < 0.015 && devFine < dev / 3, what + ": law variance off by " + dev + " at 100 steps, "
          + devFine + " at 400");
      Sampler s = new ReverseSdeFamily(eta, 0, Double.POSITIVE_INFINITY, "sigma", heun ? "heun" : "euler");
      double[] x = SdeTesting.sample(s, gaussian, g, SdeTesting.N);
      double[][] mv = SdeTesting.moments(x, 2);
      int n = x.length / 2;
      for (int j = 0; j < 2; j++) {
        double seMean = Math.sqrt(v / n);
        double seVar = v * Math.sqrt(2.0 / (n - 1));
        assertTrue(Math.abs(mv[0][j] - 0.7) < 4 * seMean, what + " mean " + mv[0][j]);
        assertTrue(Math.abs(mv[1][j] - v) < 4 * seVar, what + " var " + mv[1][j] + " vs law " + v);
      }
    }
  }

  @Test
  void theMixtureMomentsAreReachedInBothFrames() {
    // 2000 samples from exact p_σ0 draws, 200 steps; allowance 4 standard errors + 4 % (Euler–Maruyama's
    // first-order bias, ~2.5 % of the variance on the Gaussian at 200 steps, η = 1).
    Grid karras = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 200);
    Grid vp = new GridSpec.VpTime(0.1, 20, 1e-3).build(org.diffusion4j.process.VpLinear.DEFAULT, 200);
    Object[][] cases = {{sde("eta", "0.5", "s-tmin", "0.05", "s-tmax", "50"), karras}, {sde("eta", "0.7", "frame", "time"), vp}};
    for (Object[] c : cases) {
      Sampler s = (Sampler) c[0];
      Grid g = (Grid) c[1];
      double[] x = SdeTesting.sample(s, mixture, g, 2000);
      SdeTesting.assertMoments(s + " on " + g.process().id(), x, mixture, 0, 0.04);
    }
  }

  @Test
  void anEmptyNoiseIntervalIsTheOdeButStillDrawsTheSameNoise() {
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 10);
    ReplayNoise replay = new ReplayNoise(20, 12, 5);
    double[] gated = run(sde("s-tmin", "1000", "s-tmax", "2000"), g, mixture, replay, DataType.FLOAT64);
    assertEquals(0, Oracle.maxAbs(gated, run(new Euler(), g, mixture, NoiseSource.NONE, DataType.FLOAT64)), 0);
    assertEquals(9, replay.used(), "one draw per step but the last");
  }

  @Test
  void isFiniteInFloat32AtOneAndTwoStepsAndTinySigmaOnEveryProcess() {
    List<Sampler> all = List.of(sde(), sde("eta", "0.5", "method", "heun"), sde("frame", "time"),
        sde("eta", "0.3", "frame", "time"));
    int runs = 0;
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      List<Grid> gs = new ArrayList<>(List.of(GridSpec.karras().build(p, 1), GridSpec.karras().build(p, 2)));
      try {
        gs.add(new GridSpec.Karras(1e-6, Double.NaN, 7).build(p, 10));
      } catch (IllegalArgumentException outOfRange) {
        // this process's σ range does not reach 1e-6
      }
      for (Grid g : gs) {
        for (Sampler s : all) {
          double[] x = run(s, g, mixture, new SeededNoise(1, 2, 3, 4, 5, 6), DataType.FLOAT32);
          assertTrue(SdeTesting.finite(x), s + " on " + g);
          runs++;
        }
      }
    }
    assertTrue(runs >= 80, "runs " + runs);
  }

  @Test
  void nfeAndRefusals() {
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 10);
    assertEquals(10, Oracle.run(sde(), mixture.denoiser(), g, Oracle.prior(g, Oracle.normals(2, 2)), 2,
        DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
    assertEquals(19, Oracle.run(sde("method", "heun"), mixture.denoiser(), g, Oracle.prior(g, Oracle.normals(2, 2)),
        2, DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
    var e = assertThrows(IllegalArgumentException.class, () -> sde("frame", "time", "method", "heun"));
    assertTrue(e.getMessage().contains("frame=sigma"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> sde("frame", "t"));
    assertTrue(e.getMessage().contains("sigma, time"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> sde("eta", "1.5"));
    assertTrue(e.getMessage().contains("eta") && e.getMessage().contains("[0, 1]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> sde("s-tmin", "2", "s-tmax", "1"));
    assertTrue(e.getMessage().contains("s-tmax"), e.getMessage());
  }
}
