package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.Processes;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class DdimTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  private static double scale(double[] a) {
    double m = 1;
    for (double v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  @Test
  void ddimIsEulerInScaledCoordinatesOnEveryProcess() {
    // 001 §9.2 (SMP-09): x̂_t = x0 + ρ_t ε is Euler's step in (x̂, σ); compared in x̂ at the last point.
    for (String proc : Processes.IDS) {
      for (Grid grid : new Grid[] {new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(Processes.byId(proc), 12),
          Oracle.geometric(Processes.byId(proc), 20, 0.1, 9)}) {
        double[] x = Oracle.prior(grid, Oracle.normals(4, 2));
        double[] a = Oracle.run(new Ddim(0), g.denoiser(), grid, x, 2, DataType.FLOAT64, NoiseSource.NONE).x();
        double[] b = Oracle.run(new Euler(), g.denoiser(), grid, x, 2, DataType.FLOAT64, NoiseSource.NONE).x();
        double tol = 1e-12 * scale(b);
        assertTrue(Oracle.maxAbs(a, b) < tol, proc + " " + grid + ": max diff " + Oracle.maxAbs(a, b));
      }
    }
  }

  @Test
  void stepsEqualTheDiffusersDdimSchedulerTranscribedInDouble() {
    // diffusers DDIMScheduler.step (eta, no clipping, set_alpha_to_one) on the 'leading' grid, where
    // prev_timestep = t − T div N is the grid's next point; ε-model = the exact denoiser converted.
    DiscreteDdpm p = DiscreteDdpm.DEFAULT;
    GridSpec.Timesteps spec = new GridSpec.Timesteps("leading", 1, false);
    int steps = 10;
    int n = 5;
    long[] seeds = {11, 12, 13, 14, 15};
    double eta = 0.7;
    Grid grid = spec.build(p, steps);
    long[] ts = spec.timesteps(p.trainSteps(), steps);
    double[] abar = p.alphasCumprod();
    double[] x = Oracle.normals(n, 2);
    double[] ours = Oracle.run(new Ddim(eta), g.denoiser(), grid, x, 2, DataType.FLOAT64, new SeededNoise(seeds)).x();

    SeededNoise z = new SeededNoise(seeds);
    double[] xs = x.clone();
    for (int k = 0; k < steps; k++) {
      long t = ts[k];
      long prev = t - p.trainSteps() / steps;
      double at = abar[(int) t];
      double ap = prev >= 0 ? abar[(int) prev] : 1.0;
      double[] xHat = new double[xs.length];
      for (int i = 0; i < xs.length; i++) {
        xHat[i] = xs[i] / Math.sqrt(at);
      }
      double[] d = g.denoise(xHat, Math.sqrt((1 - at) / at));
      double std = eta * Math.sqrt((1 - ap) / (1 - at) * (1 - at / ap));
      double[] next = new double[xs.length];
      for (int j = 0; j < n; j++) {
        double[] noise = z.next(j, 2);
        for (int c = 0; c < 2; c++) {
          int i = j * 2 + c;
          double epsPred = (xs[i] - Math.sqrt(at) * d[i]) / Math.sqrt(1 - at);
          double x0 = (xs[i] - Math.sqrt(1 - at) * epsPred) / Math.sqrt(at);
          next[i] = Math.sqrt(ap) * x0 + Math.sqrt(1 - ap - std * std) * epsPred + std * noise[c];
        }
      }
      xs = next;
    }
    assertTrue(Oracle.maxAbs(ours, xs) < 1e-12, "max diff " + Oracle.maxAbs(ours, xs));
  }

  @Test
  void etaOneStepIsTheDdpmPosteriorKernel() {
    // FWD-10 (001 Lemma 4.4.2): mean (α_{s|t}σ_t²/σ_s²) x_s + (α_t σ_{s|t}²/σ_s²) x0, variance σ_{s|t}²σ_t²/σ_s².
    Grid grid = Grid.ofSigmas(VpLinear.DEFAULT, 3.0, 1.2);
    double[] x0 = {0.3, -0.8};
    Denoiser constant = Denoiser.shared((xx, sigma) -> xx.getManager().create(new double[] {0.3, -0.8, 0.3, -0.8}, xx.getShape()));
    double[] x = {1.5, -2.0, 0.4, 2.2};
    NoiseSource zeros = (m, shape, dt) -> m.zeros(shape, dt);
    NoiseSource ones = (m, shape, dt) -> m.ones(shape, dt);
    double[] mean = Oracle.run(new Ddim(1), constant, grid, x, 2, DataType.FLOAT64, zeros).x();
    double[] plus = Oracle.run(new Ddim(1), constant, grid, x, 2, DataType.FLOAT64, ones).x();
    double as = grid.alpha(0);
    double ss = grid.sigmaAbs(0);
    double at = grid.alpha(1);
    double st = grid.sigmaAbs(1);
    double ast = as / at;
    double sst2 = ss * ss - ast * ast * st * st;
    double std = Math.sqrt(sst2 * st * st / (ss * ss));
    for (int i = 0; i < x.length; i++) {
      double mu = ast * st * st / (ss * ss) * x[i] + at * sst2 / (ss * ss) * x0[i % 2];
      assertEquals(mu, mean[i], 1e-12);
      assertEquals(std, plus[i] - mean[i], 1e-12);
    }
  }

  @Test
  void etaOneMatchesTheDataMomentsOnAGaussian() {
    // Ancestral DDIM-η=1 with the exact denoiser of N(0.7, 0.5²): seeded, 4000 samples, 200 Karras steps on VP.
    GaussianMixture g1 = Oracle.gaussian(1);
    int n = 4000;
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = 5000 + i;
    }
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 200);
    double[] x = Oracle.prior(grid, Oracle.normals(n, 1));
    double[] out = Oracle.run(new Ddim(1), g1.denoiser(), grid, x, 1, DataType.FLOAT64, new SeededNoise(seeds)).x();
    double m = 0;
    for (double v : out) {
      m += v / n;
    }
    double var = 0;
    for (double v : out) {
      var += (v - m) * (v - m) / (n - 1);
    }
    // Standard errors: mean 0.5/√4000 ≈ 0.008, std ≈ 0.006; tolerances ≈ 4 s.e.
    assertEquals(0.7, m, 0.03);
    assertEquals(0.5, Math.sqrt(var), 0.025);
  }

  @Test
  void nfeIsOnePerStep() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 13);
    Oracle.Run r = Oracle.run(new Ddim(0.5), g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(3, 2)), 2,
        DataType.FLOAT64, new SeededNoise(1, 2, 3));
    assertEquals(13, r.nfe());
  }

  @Test
  void badEtaFailsNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("ddim", Map.of("eta", "-1")));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    // Above 1 the DDIM-η noise c = η σ_t sqrt(1 − e^{−2h}) can exceed σ_t: refused up front.
    IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> new Ddim(50));
    assertTrue(big.getMessage().contains("[0, 1]") && big.getMessage().contains("50"), big.getMessage());
    big = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("ddim", Map.of("eta", "1.5")));
    assertTrue(big.getMessage().contains("in [0, 1], got 1.5"), big.getMessage());
  }
}
