package org.diffusion4j.guidance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

class TranslationTest {
  private final GaussianMixture g = GaussianMixture.demo2d();

  @Test
  void strengthKeepsTheLastStepsOfTheGrid() {
    Grid full = GridSpec.karras().build(Processes.byId("edm"), 20);
    Grid half = SdEdit.grid(full, 0.5);
    assertEquals(10, half.steps());
    assertEquals(full.sigma(10), half.sigma(0), 0);
    assertEquals(0, half.sigma(half.steps()), 0);
    assertEquals(20, SdEdit.grid(full, 1).steps());
    assertEquals(1, SdEdit.grid(full, 0.001).steps());
    Grid from = SdEdit.gridFrom(full, 1.0);
    assertTrue(from.sigma(0) <= 1 && full.sigma(20 - from.steps() - 1) > 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SdEdit.grid(full, 0));
    assertTrue(e.getMessage().contains("(0, 1]"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SdEdit.grid(full, Double.NaN));
  }

  @Test
  void sdeditStaysNearTheInputAtLowStrengthAndForgetsItAtFullStrength() {
    Grid full = GridSpec.karras().build(Processes.byId("vp"), 30);
    int n = 64;
    double[] input = new double[2 * n];
    for (int i = 0; i < n; i++) {
      input[2 * i] = 1.3;   // between two components of the circle
      input[2 * i + 1] = 1.3;
    }
    long[] seeds = Sampling.seedRange(0, n - 1);
    double[] closest = new double[2];
    double[][] mu = g.means();
    double[] strengths = {0.15, 1};
    for (int k = 0; k < 2; k++) {
      Grid grid = SdEdit.grid(full, strengths[k]);
      double[] out = Sampling.of(g.denoiser(), 2).sampler(SamplerRegistry.create("heun", Map.of())).grid(grid)
          .seeds(seeds).initial(SdEdit.start(input, grid, seeds)).run().samples();
      for (int i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < mu.length; c++) {
          if (Math.hypot(out[2 * i] - mu[c][0], out[2 * i + 1] - mu[c][1])
              < Math.hypot(out[2 * i] - mu[best][0], out[2 * i + 1] - mu[best][1])) {
            best = c;
          }
        }
        closest[k] += best == 1 ? 1.0 / n : 0;
      }
    }
    // Low strength lands on the component nearest the input, (√2, √2); full strength on any (its weight is 1/6).
    assertTrue(closest[0] > 0.9 && closest[1] < 0.4, java.util.Arrays.toString(closest));
  }

  @Test
  void ddimInversionRoundTripIsTheIdentityUpToTheSolverError() {
    double[] data = g.sample(Sampling.seedRange(100, 131), 0);
    double[] err = new double[2];
    int[] steps = {50, 200};
    for (int k = 0; k < 2; k++) {
      Grid grid = GridSpec.karras().build(Processes.byId("edm"), steps[k]);
      double[] latent = DdimInversion.invert(g.denoiser(), grid, data, new long[] {2}, Conditioning.NONE);
      double[] back = Sampling.of(g.denoiser(), 2).sampler(SamplerRegistry.create("ddim", Map.of())).grid(grid)
          .seeds(0, 31).initial(latent).run().samples();
      for (int i = 0; i < data.length; i++) {
        err[k] = Math.max(err[k], Math.abs(back[i] - data[i]));
      }
    }
    // First order: 4× the steps, about 4× smaller.
    assertTrue(err[1] < 0.06 && err[1] < err[0] / 3, java.util.Arrays.toString(err));
  }
}
