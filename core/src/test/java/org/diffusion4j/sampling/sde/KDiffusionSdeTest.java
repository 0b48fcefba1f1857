package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/**
 * The k-diffusion / EDM stochastic samplers: η = 0 identities with their deterministic counterparts,
 * replay-noise parity with host double references, orders at η = 0, NFE counts and parameter checks.
 */
class KDiffusionSdeTest {
  private final GaussianMixture g1 = Oracle.gaussian(1);
  private final GaussianMixture g2 = Oracle.gaussian(2);
  private final HostReference.Model host = (x, sigma) -> g1.denoise(x, sigma);

  private static Oracle.Run run(Sampler s, GaussianMixture gm, Grid grid, double[] x, NoiseSource noise) {
    return Oracle.run(s, gm.denoiser(), grid, x, gm.dim(), DataType.FLOAT64, noise);
  }

  private static Grid karras(int steps) {
    return new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, steps);
  }

  private static Grid geometric(int steps) {
    return Oracle.geometric(Edm.DEFAULT, 20, 0.05, steps);
  }

  // (a) η = 0 / S_churn = 0 reduce to the deterministic counterparts.

  @Test
  void eulerAncestralAtEtaZeroIsEulerBitForBit() {
    Grid grid = karras(12);
    double[] x = Oracle.prior(grid, Oracle.normals(8, 2));
    double[] a = run(new EulerAncestral(0, 1), g2, grid, x, NoiseSource.NONE).x();
    double[] b = run(new Euler(), g2, grid, x, NoiseSource.NONE).x();
    assertEquals(0.0, Oracle.maxAbs(a, b), 0.0);
  }

  @Test
  void edmWithoutChurnIsHeunBitForBit() {
    Grid grid = karras(12);
    double[] x = Oracle.prior(grid, Oracle.normals(8, 2));
    double[] b = run(new Heun(), g2, grid, x, NoiseSource.NONE).x();
    for (Sampler s : List.of(new EdmStochastic(0, 0, Double.POSITIVE_INFINITY, 1),
        new EdmStochastic(0, 0.05, 50, 1.003))) {
      Oracle.Run a = run(s, g2, grid, x, NoiseSource.NONE);
      assertEquals(0.0, Oracle.maxAbs(a.x(), b), 0.0, s.toString());
      assertEquals(23, a.nfe());
    }
    // Churn outside [S_tmin, S_tmax] everywhere: noise is drawn (EDM's randn_like) but never added.
    ReplayNoise noise = new ReplayNoise(12, 16, 5);
    double[] c = run(new EdmStochastic(40, 100, 200, 1), g2, grid, x, noise).x();
    assertEquals(0.0, Oracle.maxAbs(c, b), 0.0);
    assertEquals(12, noise.used());
  }

  @Test
  void dpmpp2sAncestralAtEtaZeroIsDeterministicDpmSolverPlusPlus2S() {
    for (Grid grid : List.of(karras(10), geometric(10))) {
      double[] x = Oracle.prior(grid, Oracle.normals(6, 1));
      double[] got = run(new DpmSolverPlusPlus2SAncestral(0, 1), g1, grid, x, NoiseSource.NONE).x();
      double[] want = HostReference.dpmpp2sAncestral(host, grid.sigmas(), x, 0, 1, null);
      assertTrue(Oracle.maxAbs(got, want) < 1e-12, "diff " + Oracle.maxAbs(got, want));
    }
  }

  @Test
  void dpmppSdeAtEtaZeroIsDpmSolverPlusPlus2SWithRatioR() {
    Grid grid = karras(10);
    double[] x = Oracle.prior(grid, Oracle.normals(6, 1));
    // r = 1/2: the same method as dpmpp-2s-ancestral at η = 0 (different round-off in λ).
    double[] a = run(new DpmSolverPlusPlusSde(0, 1, 0.5), g1, grid, x, NoiseSource.NONE).x();
    double[] b = run(new DpmSolverPlusPlus2SAncestral(0, 1), g1, grid, x, NoiseSource.NONE).x();
    assertTrue(Oracle.maxAbs(a, b) < 1e-12, "diff " + Oracle.maxAbs(a, b));
    for (double r : new double[] {1.0 / 3, 1.0}) {
      double[] got = run(new DpmSolverPlusPlusSde(0, 1, r), g1, grid, x, NoiseSource.NONE).x();
      double[] want = HostReference.dpmppSde(host, grid.sigmas(), x, 0, 1, r, null);
      assertTrue(Oracle.maxAbs(got, want) < 1e-12, "r=" + r + " diff " + Oracle.maxAbs(got, want));
    }
  }

  @Test
  void dpmpp2mSdeAtEtaZeroIsDpmSolverPlusPlus2M() {
    // η = 0 references: SPEC SMP-14 Algorithm 7 (midpoint) and its exact-linear variant (heun).
    for (Grid grid : List.of(karras(10), geometric(10))) {
      double[] x = Oracle.prior(grid, Oracle.normals(6, 1));
      for (String type : List.of("midpoint", "heun")) {
        double[] got = run(new DpmSolverPlusPlus2MSde(0, 1, type), g1, grid, x, NoiseSource.NONE).x();
        double[] want = HostReference.dpmppMultistepSde(host, grid.sigmas(), x, 2, type.equals("midpoint"), 0, 1,
            null);
        assertTrue(Oracle.maxAbs(got, want) < 1e-12, type + " diff " + Oracle.maxAbs(got, want));
      }
    }
  }

  @Test
  void dpmpp3mSdeAtEtaZeroIsDpmSolverPlusPlus3M() {
    for (Grid grid : List.of(karras(10), geometric(10))) {
      double[] x = Oracle.prior(grid, Oracle.normals(6, 1));
      double[] got = run(new DpmSolverPlusPlus3MSde(0, 1), g1, grid, x, NoiseSource.NONE).x();
      double[] want = HostReference.dpmppMultistepSde(host, grid.sigmas(), x, 3, false, 0, 1, null);
      assertTrue(Oracle.maxAbs(got, want) < 1e-12, "diff " + Oracle.maxAbs(got, want));
    }
  }

  @Test
  void ordersAtEtaZero() {
    // Deterministic limits on geometric grids (no final zero): nominal order ± 0.2.
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2SAncestral(0, 1), g2, KDiffusionSdeTest::geometric, 20,
        40), 0.2);
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlusSde(0, 1, 0.5), g2, KDiffusionSdeTest::geometric, 20, 40),
        0.2);
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2MSde(0, 1, "midpoint"), g2, KDiffusionSdeTest::geometric,
        20, 40), 0.2);
    assertEquals(2.0, Oracle.order(new DpmSolverPlusPlus2MSde(0, 1, "heun"), g2, KDiffusionSdeTest::geometric,
        20, 40), 0.2);
    // 3M as published (LuChengTHU/dpm-solver, diffusers, k-diffusion) is formally 2nd order: its first step
    // is order 1 and its curvature term has half the Taylor weight (see the polynomial test). Measured
    // slope 20 -> 40 steps: 2.31.
    double p3 = Oracle.order(new DpmSolverPlusPlus3MSde(0, 1), g2, KDiffusionSdeTest::geometric, 20, 40);
    assertEquals(2.2, p3, 0.3);
  }

  /** D(x̂; σ) = a + bλ + cλ², λ = −log σ, whatever x̂: the PF-ODE is linear and solves in closed form. */
  private static final double[] POLY = {0.3, -0.7, 0.15};

  private static double poly(double lambda, int degree) {
    double v = 0;
    for (int k = degree; k >= 0; k--) {
      v = v * lambda + POLY[k];
    }
    return v;
  }

  /** ∫ e^λ p(λ) dλ = e^λ (a + b(λ − 1) + c(λ² − 2λ + 2)). */
  private static double primitive(double lambda, int degree) {
    double c = degree >= 2 ? POLY[2] : 0;
    double b = degree >= 1 ? POLY[1] : 0;
    return Math.exp(lambda) * (POLY[0] + b * (lambda - 1) + c * (lambda * lambda - 2 * lambda + 2));
  }

  private static double[] runPoly(Sampler s, double[] sg, double[] x, int degree) {
    org.diffusion4j.denoiser.Denoiser d = org.diffusion4j.denoiser.Denoiser.shared((xx, sigma) -> xx.zerosLike().add(poly(-Math.log(sigma), degree)));
    return Oracle.run(s, d, Grid.ofSigmas(Edm.DEFAULT, sg), x, 1, DataType.FLOAT64, NoiseSource.NONE).x();
  }

  /**
   * Runs {@code s} on the whole grid and on its first {@code k} steps, and returns full − (head continued
   * exactly): x̂(σ_N) = (σ_N/σ_k) x̂(σ_k) + σ_N ∫_{λ_k}^{λ_N} e^λ p(λ) dλ. Zero iff steps k.. are exact for p.
   */
  private static double defect(Sampler s, double[] sg, int k, int degree) {
    double[] x0 = {1.5};
    double[] head = runPoly(s, java.util.Arrays.copyOf(sg, k + 1), x0, degree);
    double[] full = runPoly(s, sg, x0, degree);
    double sN = sg[sg.length - 1];
    double exact = sN / sg[k] * head[0]
        + sN * (primitive(-Math.log(sN), degree) - primitive(-Math.log(sg[k]), degree));
    return full[0] - exact;
  }

  @Test
  void multistepStepsOnPolynomialDenoisersInLambda() {
    double[] sg = Oracle.geometric(Edm.DEFAULT, 20, 0.05, 8).sigmas();
    Sampler m2 = new DpmSolverPlusPlus2MSde(0, 1, "heun");
    Sampler m3 = new DpmSolverPlusPlus3MSde(0, 1);
    // After the first step, 2M heun (the exact-linear variant of SMP-14) and 3M integrate linear p exactly,
    // but not quadratic p.
    assertEquals(0.0, defect(m2, sg, 1, 1), 1e-12);
    assertEquals(0.0, defect(m3, sg, 1, 1), 1e-12);
    assertTrue(Math.abs(defect(m2, sg, 1, 2)) > 1e-4, "2M heun is not exact for quadratic p");
    // From the third step on, 3M's quadratic term is c·h²(−φ₃) = c(h²/2 − h + 1 − e^{−h}), half the exact
    // ∫_0^h e^{τ−h} cτ² dτ = c(h² − 2h + 2 − 2e^{−h}) (the published DPM-Solver++(3M) weighting, which
    // k-diffusion copies). Each step's defect −c(h²/2 − h + 1 − e^{−h}) is carried to σ_N by σ_N/σ_{k+1}.
    double want = 0;
    for (int k = 2; k + 1 < sg.length; k++) {
      double h = Math.log(sg[k] / sg[k + 1]);
      want += -POLY[2] * (h * h / 2 - h + 1 - Math.exp(-h)) * sg[sg.length - 1] / sg[k + 1];
    }
    double got = defect(m3, sg, 2, 2);
    assertTrue(Math.abs(want) > 1e-5, "the test must be able to tell: " + want);
    assertEquals(want, got, 1e-12);
  }

  // (b) Replay-noise parity: fixed noise arrays, host double reference.

  private double[] replay(Sampler s, double[] sg, ReplayNoise noise) {
    Grid grid = Grid.ofSigmas(Edm.DEFAULT, sg);
    double[] x = Oracle.prior(grid, Oracle.normals(3, 1));
    return run(s, g1, grid, x, noise).x();
  }

  private static final double[][] GRIDS = {{2.0, 0.8}, {3.0, 1.6, 0.7, 0.25}, {3.0, 1.6, 0.7, 0.25, 0}};

  private void assertReplay(Sampler s, int[] draws, ReferenceRun ref) {
    for (int k = 0; k < GRIDS.length; k++) {
      double[] sg = GRIDS[k];
      ReplayNoise noise = new ReplayNoise(12, 3, 100 + k);
      double[] got = replay(s, sg, noise);
      double[] x = Oracle.prior(Grid.ofSigmas(Edm.DEFAULT, sg), Oracle.normals(3, 1));
      double[] want = ref.apply(sg, x, noise.arrays().iterator());
      assertTrue(Oracle.maxAbs(got, want) < 1e-12, s + " on " + java.util.Arrays.toString(sg) + " diff "
          + Oracle.maxAbs(got, want));
      assertEquals(draws[k], noise.used(), s + " noise draws on grid " + k);
    }
  }

  private interface ReferenceRun {
    double[] apply(double[] sigmas, double[] x, Iterator<double[]> eps);
  }

  @Test
  void eulerAncestralReplaysByHand() {
    assertReplay(new EulerAncestral(1, 1.1), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.eulerAncestral(host, sg, x, 1, 1.1, e));
    assertReplay(new EulerAncestral(0.6, 1), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.eulerAncestral(host, sg, x, 0.6, 1, e));
  }

  @Test
  void edmReplaysByHand() {
    // Churn only for σ in [0.5, 2.5]: some steps with γ > 0, some with γ = 0, a draw on every step.
    assertReplay(new EdmStochastic(2, 0.5, 2.5, 1.007), new int[] {1, 3, 4},
        (sg, x, e) -> HostReference.edm(host, sg, x, 2, 0.5, 2.5, 1.007, e));
    // γ capped at √2 − 1.
    assertReplay(new EdmStochastic(80, 0, Double.POSITIVE_INFINITY, 1), new int[] {1, 3, 4},
        (sg, x, e) -> HostReference.edm(host, sg, x, 80, 0, Double.POSITIVE_INFINITY, 1, e));
  }

  @Test
  void dpmpp2sAncestralReplaysByHand() {
    assertReplay(new DpmSolverPlusPlus2SAncestral(1, 1), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.dpmpp2sAncestral(host, sg, x, 1, 1, e));
    assertReplay(new DpmSolverPlusPlus2SAncestral(0.5, 0.9), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.dpmpp2sAncestral(host, sg, x, 0.5, 0.9, e));
  }

  @Test
  void dpmppSdeReplaysByHand() {
    assertReplay(new DpmSolverPlusPlusSde(1, 1, 0.5), new int[] {2, 6, 6},
        (sg, x, e) -> HostReference.dpmppSde(host, sg, x, 1, 1, 0.5, e));
    assertReplay(new DpmSolverPlusPlusSde(0.7, 1.05, 0.3), new int[] {2, 6, 6},
        (sg, x, e) -> HostReference.dpmppSde(host, sg, x, 0.7, 1.05, 0.3, e));
    // η large enough that σ_up is capped at σ_next (σ_down = 0: the stages jump to D, then noise).
    assertReplay(new DpmSolverPlusPlusSde(5, 1, 0.5), new int[] {2, 6, 6},
        (sg, x, e) -> HostReference.dpmppSde(host, sg, x, 5, 1, 0.5, e));
  }

  @Test
  void dpmpp2mSdeReplaysByHand() {
    for (String type : List.of("midpoint", "heun")) {
      assertReplay(new DpmSolverPlusPlus2MSde(1, 1, type), new int[] {1, 3, 3},
          (sg, x, e) -> HostReference.dpmppMultistepSde(host, sg, x, 2, type.equals("midpoint"), 1, 1, e));
      assertReplay(new DpmSolverPlusPlus2MSde(0.4, 1.02, type), new int[] {1, 3, 3},
          (sg, x, e) -> HostReference.dpmppMultistepSde(host, sg, x, 2, type.equals("midpoint"), 0.4, 1.02, e));
    }
  }

  @Test
  void dpmpp3mSdeReplaysByHand() {
    assertReplay(new DpmSolverPlusPlus3MSde(1, 1), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.dpmppMultistepSde(host, sg, x, 3, false, 1, 1, e));
    assertReplay(new DpmSolverPlusPlus3MSde(0.5, 0.95), new int[] {1, 3, 3},
        (sg, x, e) -> HostReference.dpmppMultistepSde(host, sg, x, 3, false, 0.5, 0.95, e));
  }

  @Test
  void replayIsTheSameOnEveryProcessInScaledCoordinates() {
    // σ-space samplers add their noise to x̂ = x/s: on VP they give s_N·(the EDM result) for the same ε.
    double[] sg = {3.0, 1.6, 0.7, 0.25};
    Grid edm = Grid.ofSigmas(Edm.DEFAULT, sg);
    Grid vp = Grid.ofSigmas(VpLinear.DEFAULT, sg);
    double[] eps = Oracle.normals(4, 2);
    double[] a = run(new DpmSolverPlusPlus2MSde(1, 1, "midpoint"), g2, edm, Oracle.prior(edm, eps),
        new ReplayNoise(3, 8, 9)).x();
    double[] b = run(new DpmSolverPlusPlus2MSde(1, 1, "midpoint"), g2, vp, Oracle.prior(vp, eps),
        new ReplayNoise(3, 8, 9)).x();
    double sN = vp.s(vp.size() - 1);
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i] / sN, 1e-12);
    }
  }

  // NFE and parameters.

  @Test
  void nfeCounts() {
    Grid grid = karras(18);
    double[] x = Oracle.prior(grid, Oracle.normals(3, 2));
    Map<Sampler, Integer> want = Map.of(new EulerAncestral(1, 1), 18, new EdmStochastic(40, 0.05, 50, 1.003), 35,
        new DpmSolverPlusPlus2SAncestral(1, 1), 35, new DpmSolverPlusPlusSde(1, 1, 0.5), 35,
        new DpmSolverPlusPlus2MSde(1, 1, "heun"), 18, new DpmSolverPlusPlus3MSde(1, 1), 18);
    for (Map.Entry<Sampler, Integer> e : want.entrySet()) {
      Oracle.Run r = run(e.getKey(), g2, grid, x, new org.diffusion4j.sampling.SeededNoise(1, 2, 3));
      assertEquals(e.getValue(), r.nfe(), e.getKey().id());
    }
  }

  @Test
  void registryBuildsWithDefaultsAndParameters() {
    assertEquals(new EulerAncestral(1, 1), SamplerRegistry.create("euler-ancestral", Map.of()));
    assertEquals(new EdmStochastic(0, 0, Double.POSITIVE_INFINITY, 1), SamplerRegistry.create("edm", Map.of()));
    assertEquals(new EdmStochastic(80, 0.05, 50, 1.003), SamplerRegistry.create("edm",
        Map.of("s-churn", "80", "s-tmin", "0.05", "s-tmax", "50", "s-noise", "1.003")));
    assertEquals(new DpmSolverPlusPlus2SAncestral(1, 1), SamplerRegistry.create("dpmpp-2s-ancestral", Map.of()));
    assertEquals(new DpmSolverPlusPlusSde(1, 1, 0.5), SamplerRegistry.create("dpmpp-sde", Map.of()));
    assertEquals(new DpmSolverPlusPlus2MSde(1, 1, "midpoint"), SamplerRegistry.create("dpmpp-2m-sde", Map.of()));
    assertEquals(new DpmSolverPlusPlus2MSde(0.5, 1, "heun"),
        SamplerRegistry.create("dpmpp-2m-sde", Map.of("eta", "0.5", "solver-type", "HEUN")));
    assertEquals(new DpmSolverPlusPlus3MSde(1, 1), SamplerRegistry.create("dpmpp-3m-sde", Map.of()));
    for (String id : List.of("euler-ancestral", "edm", "dpmpp-2s-ancestral", "dpmpp-sde", "dpmpp-2m-sde",
        "dpmpp-3m-sde")) {
      assertTrue(SamplerRegistry.get(id).stochastic(), id);
    }
  }

  @Test
  void badParametersNameTheValueAndTheRange() {
    assertMessage("euler-ancestral", Map.of("eta", "-0.5"), "eta", "-0.5", "≥ 0");
    assertMessage("dpmpp-3m-sde", Map.of("s-noise", "Infinity"), "s-noise", "Infinity", "in [0, 10]");
    assertMessage("dpmpp-sde", Map.of("r", "0"), "r", "0", "in [0.001, 1]");
    assertMessage("dpmpp-sde", Map.of("r", "1.5"), "r", "1.5", "in [0.001, 1]");
    assertMessage("dpmpp-2m-sde", Map.of("solver-type", "rk4"), "solver-type", "rk4", "midpoint, heun");
    assertMessage("edm", Map.of("s-tmin", "2", "s-tmax", "1"), "s-tmax", "1.0", ">= s-tmin");
    assertMessage("edm", Map.of("s-churn", "-1"), "s-churn", "-1", "≥ 0");
  }

  private static void assertMessage(String id, Map<String, String> params, String... parts) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create(id, params));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
    }
  }

  @Test
  void ancestralSplitKeepsTheVariance() {
    // σ_down² + σ_up² = σ_next², σ_up = DDPM posterior std at η = 1, capped at σ_next for large η.
    AncestralStep a = AncestralStep.of(2.0, 0.8, 1);
    assertEquals(0.8 * 0.8, a.sigmaDown() * a.sigmaDown() + a.sigmaUp() * a.sigmaUp(), 1e-15);
    assertEquals(0.8 * Math.sqrt(1 - 0.16), a.sigmaUp(), 1e-15);
    assertEquals(new AncestralStep(0.8, 0), AncestralStep.of(2.0, 0.8, 0));
    assertEquals(new AncestralStep(0, 0.8), AncestralStep.of(2.0, 0.8, 10));
    assertEquals(new AncestralStep(0, 0), AncestralStep.of(2.0, 0, 1));
  }
}
