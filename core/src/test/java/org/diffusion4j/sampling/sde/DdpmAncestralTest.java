package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.sde.DdpmAncestral.Variance;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class DdpmAncestralTest {
  private final GaussianMixture gaussian = Oracle.gaussian(2);
  private final GaussianMixture mixture = Oracle.mixture();
  private final DiscreteDdpm ddpm = DiscreteDdpm.DEFAULT;

  @Test
  void oneStepIsTheGaussianPosteriorKernelGivenTheExactX0() {
    // FWD-10 in absolute α, σ: mean (α_{s|t}σ_t²/σ_s²)x_s + (α_tσ_{s|t}²/σ_s²)x0, std σ_{s|t}σ_t/σ_s (small)
    // or σ_{s|t} (large). Constant noise c makes the step mean + c·std, so mean and std are exact.
    for (Grid grid : List.of(Grid.ofSigmas(VpLinear.DEFAULT, 3.0, 1.2), Grid.ofSigmas(RectifiedFlow.DEFAULT, 3.0, 1.2),
        Grid.ofTimes(ddpm, 600, 550))) {
      double as = grid.alpha(0);
      double at = grid.alpha(1);
      double ss = grid.sigmaAbs(0);
      double st = grid.sigmaAbs(1);
      double ast = as / at;
      double sst2 = ss * ss - ast * ast * st * st;
      double[] x = {0.3, -1.1, 2.0, 0.05};
      double[] xHat = {x[0] / as, x[1] / as, x[2] / as, x[3] / as};
      double[] x0 = mixture.denoise(xHat, grid.sigma(0));
      for (Variance v : Variance.values()) {
        double std = v == Variance.SMALL ? Math.sqrt(sst2) * st / ss : Math.sqrt(sst2);
        double[] mean = Oracle.run(new DdpmAncestral(v), mixture.denoiser(), grid, x, 2, DataType.FLOAT64,
            SdeTesting.constant(0)).x();
        double[] plus = Oracle.run(new DdpmAncestral(v), mixture.denoiser(), grid, x, 2, DataType.FLOAT64,
            SdeTesting.constant(1)).x();
        for (int k = 0; k < x.length; k++) {
          double want = ast * st * st / (ss * ss) * x[k] + at * sst2 / (ss * ss) * x0[k];
          assertEquals(want, mean[k], 1e-12, grid.process().id() + " mean");
          assertEquals(std, plus[k] - mean[k], 1e-12, grid.process().id() + " " + v + " std");
        }
      }
    }
  }

  @Test
  void oneStepSampleVarianceMatchesTheKernel() {
    // Seeded draws from one fixed x_s: sample variance of x_t within 4 standard errors of σ²(s,t).
    Grid grid = Grid.ofTimes(ddpm, 600, 550);
    int n = SdeTesting.N;
    double[] x = new double[2 * n];
    Arrays.fill(x, 0.4);
    double[] out = Oracle.run(new DdpmAncestral(), gaussian.denoiser(), grid, x, 2, DataType.FLOAT64,
        new SeededNoise(SdeTesting.seeds(n, 77))).x();
    double as = grid.alpha(0);
    double at = grid.alpha(1);
    double sst2 = grid.sigmaAbs(0) * grid.sigmaAbs(0) - (as / at) * (as / at) * grid.sigmaAbs(1) * grid.sigmaAbs(1);
    double var = sst2 * grid.sigmaAbs(1) * grid.sigmaAbs(1) / (grid.sigmaAbs(0) * grid.sigmaAbs(0));
    double[][] mv = SdeTesting.moments(out, 2);
    for (int j = 0; j < 2; j++) {
      assertEquals(var, mv[1][j], SdeTesting.K * var * Math.sqrt(2.0 / n), "variance");
    }
  }

  /**
   * diffusers' {@code DDPMScheduler.step} (scheduling_ddpm.py: ε-prediction, no clipping,
   * fixed_small/fixed_large, variance clamped at 1e-20, noise when t &gt; 0), written out in double here
   * as the reference; ε comes from the exact x0 via ε = (x − sqrt(ᾱ)x0)/sqrt(1 − ᾱ).
   *
   * @param custom true: prev_t is the next listed timestep or −1 (set_timesteps(timesteps=…));
   *     false: prev_t = t − T div N (set_timesteps(N))
   */
  private double[] diffusers(GaussianMixture gm, long[] timesteps, boolean custom, boolean large, double[] x,
      SeededNoise noise) {
    double[] ac = ddpm.alphasCumprod();
    int bigT = ddpm.trainSteps();
    int n = timesteps.length;
    int d = gm.dim();
    double[] cur = x.clone();
    for (int k = 0; k < n; k++) {
      int t = (int) timesteps[k];
      int prev = custom ? (k + 1 < n ? (int) timesteps[k + 1] : -1) : t - bigT / n;
      double apt = ac[t];
      double aprev = prev >= 0 ? ac[prev] : 1;
      double bpt = 1 - apt;
      double bprev = 1 - aprev;
      double curAlpha = apt / aprev;
      double curBeta = 1 - curAlpha;
      double[] xHat = new double[cur.length];
      for (int i = 0; i < cur.length; i++) {
        xHat[i] = cur[i] / Math.sqrt(apt);
      }
      double[] x0 = gm.denoise(xHat, Math.sqrt(bpt / apt));
      double variance = large ? curBeta : Math.max(bprev / bpt * curBeta, 1e-20);
      for (int p = 0; p < cur.length / d; p++) {
        double[] z = t > 0 ? noise.next(p, d) : new double[d];
        for (int j = 0; j < d; j++) {
          int i = p * d + j;
          double eps = (cur[i] - Math.sqrt(apt) * x0[i]) / Math.sqrt(bpt);
          double pred = (cur[i] - Math.sqrt(bpt) * eps) / Math.sqrt(apt);
          double mean = Math.sqrt(aprev) * curBeta / bpt * pred + Math.sqrt(curAlpha) * bprev / bpt * cur[i];
          cur[i] = mean + Math.sqrt(variance) * z[j];
        }
      }
    }
    return cur;
  }

  private double compare(GridSpec.Timesteps spec, int steps, boolean custom, boolean large) {
    Grid grid = spec.build(ddpm, steps);
    long[] ts = spec.timesteps(ddpm.trainSteps(), steps);
    double[] x = SdeTesting.start(mixture, grid, 16);
    long[] seeds = SdeTesting.seeds(16, 500);
    double[] ours = Oracle.run(new DdpmAncestral(large ? Variance.LARGE : Variance.SMALL), mixture.denoiser(),
        grid, x, 2, DataType.FLOAT64, new SeededNoise(seeds)).x();
    double[] ref = diffusers(mixture, ts, custom, large, x, new SeededNoise(seeds));
    return Oracle.maxAbs(ours, ref);
  }

  @Test
  void equalsDiffusersDdpmSchedulerOnLeadingAndTrailingGrids() {
    // Float64 round-off, except trailing's last step, where diffusers adds noise with the clamped
    // variance 1e-20 (std 1e-10) and we add none: tolerance 1e-9.
    for (int steps : new int[] {10, 50, 1000}) {
      assertTrue(compare(new GridSpec.Timesteps("leading", 0, false), steps, false, false) < 1e-12, "leading " + steps);
      assertTrue(compare(new GridSpec.Timesteps("leading", 0, false), steps, false, true) < 1e-12, "leading large");
      assertTrue(compare(new GridSpec.Timesteps("trailing", 0, false), steps, false, false) < 1e-9, "trailing " + steps);
    }
    // Offset 1 ends at t = 1 > 0, where diffusers again adds 1e-10-scaled noise.
    assertTrue(compare(new GridSpec.Timesteps("leading", 1, false), 20, false, false) < 1e-9, "leading offset 1");
  }

  @Test
  void linspaceEqualsDiffusersWithCustomTimestepsButNotWithItsTMinusTOverNStep() {
    // diffusers' set_timesteps(N) steps from t to t − T div N; on linspace(0, 999, 10) that is 999 → 899, not
    // the next timestep 888. We always step to the next grid point = diffusers' custom-timesteps mode.
    GridSpec.Timesteps linspace = new GridSpec.Timesteps("linspace", 0, false);
    assertEquals(888, linspace.timesteps(1000, 10)[1]);
    assertTrue(compare(linspace, 10, true, false) < 1e-12, "linspace, custom timesteps");
    assertTrue(compare(linspace, 10, true, true) < 1e-12, "linspace, custom timesteps, large");
    assertTrue(compare(new GridSpec.Timesteps("trailing", 0, false), 7, true, false) < 1e-9, "trailing 7, custom");
    assertTrue(compare(linspace, 10, false, false) > 1e-3, "set_timesteps(10) linspace should differ");
  }

  @Test
  void sameSamplesAtBatchSizes1And7And64() {
    Grid grid = new GridSpec.Timesteps("trailing", 0, false).build(ddpm, 20);
    long[] seeds = SdeTesting.seeds(64, 9000);
    double[] x = SdeTesting.start(mixture, grid, 64);
    double[] whole = Oracle.run(new DdpmAncestral(), mixture.denoiser(), grid, x, 2, DataType.FLOAT64,
        new SeededNoise(seeds)).x();
    for (int batch : new int[] {1, 7}) {
      double[] parts = new double[whole.length];
      for (int from = 0; from < 64; from += batch) {
        int to = Math.min(64, from + batch);
        double[] xs = Arrays.copyOfRange(x, 2 * from, 2 * to);
        double[] out = Oracle.run(new DdpmAncestral(), mixture.denoiser(), grid, xs, 2, DataType.FLOAT64,
            new SeededNoise(Arrays.copyOfRange(seeds, from, to))).x();
        System.arraycopy(out, 0, parts, 2 * from, out.length);
      }
      assertTrue(Oracle.maxAbs(whole, parts) <= 1e-15, "batch " + batch + " differs by " + Oracle.maxAbs(whole, parts));
    }
  }

  @Test
  void reachesTheDataMoments() {
    // All 1000 timesteps of discrete DDPM and 1000 uniform-t steps on VP; 4 SE + 2% allowance. (With the
    // exact x0 each step loses the relative variance a(σ_s² − σ_t²)²/((a+σ_s²)σ_s²(a+σ_t²)), a the data
    // variance, so 100 leading steps, or 200 uniform-t steps on VP, end 7–11% low: the method's bias.)
    for (Grid grid : List.of(new GridSpec.Timesteps("leading", 0, false).build(ddpm, 1000),
        new GridSpec.VpTime(0.1, 20, 1e-3).build(VpLinear.DEFAULT, 1000))) {
      for (GaussianMixture gm : List.of(gaussian, mixture)) {
        for (Variance v : Variance.values()) {
          double[] x = SdeTesting.sample(new DdpmAncestral(v), gm, grid, SdeTesting.N);
          SdeTesting.assertMoments("ddpm " + v + " on " + grid.process().id() + ", " + gm.components()
              + " components", x, gm, 0, 0.02);
        }
      }
    }
  }

  @Test
  void nfeIsOnePerStep() {
    Grid grid = new GridSpec.Timesteps("leading", 0, false).build(ddpm, 12);
    assertEquals(12, Oracle.run(new DdpmAncestral(), gaussian.denoiser(), grid, Oracle.prior(grid, Oracle.normals(2, 2)),
        2, DataType.FLOAT64, new SeededNoise(1, 2)).nfe());
  }
}
