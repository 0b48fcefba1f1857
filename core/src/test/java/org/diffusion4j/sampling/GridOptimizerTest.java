package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class GridOptimizerTest {
  private final GaussianMixture mix = Oracle.mixture();

  private double[] states(Grid g, long from, int n) {
    return Sampling.prior(g, Sampling.seedRange(from, from + n - 1), 2);
  }

  @Test
  void optimisedGridBeatsItsStartOnFreshStates() {
    Sampler s = SamplerRegistry.create("dpmpp-2m", Map.of());
    Grid start = GridSpec.karras().build(Edm.DEFAULT, 5);
    double[] cal = states(start, 1000, 64);
    double[] target = ExactFlow.solve(mix, cal.clone(), 80, 0);
    GridOptimizer.Result r = GridOptimizer.optimize(mix.denoiser(), new long[] {2}, s, start, cal, target, 150);
    assertTrue(r.error() < r.startError() / 3, r.error() + " vs " + r.startError());
    assertTrue(r.evaluations() <= 152, "evaluations " + r.evaluations());
    assertEquals(80, r.grid().sigma(0), 0);
    assertEquals(0, r.grid().sigma(5), 0);
    for (int i = 1; i < r.grid().size(); i++) {
      assertTrue(r.grid().sigma(i) < r.grid().sigma(i - 1));
    }
    // Held-out states: the optimised grid still wins.
    double[] test = states(start, 0, 64);
    double[] ref = ExactFlow.solve(mix, test.clone(), 80, 0);
    double before = GridOptimizer.error(mix.denoiser(), new long[] {2}, s, start, test, ref);
    double after = GridOptimizer.error(mix.denoiser(), new long[] {2}, s, r.grid(), test, ref);
    assertTrue(after < before / 2, after + " vs " + before);
  }

  @Test
  void targetsFromAReferenceSamplerMatchTheExactFlow() {
    Grid fine = GridSpec.karras().build(Edm.DEFAULT, 400);
    double[] cal = states(fine, 5, 8);
    double[] t = GridOptimizer.targets(mix.denoiser(), new long[] {2},
        SamplerRegistry.create("heun", Map.of()), fine, cal);
    double[] exact = ExactFlow.solve(mix, cal.clone(), 80, 0);
    assertTrue(Oracle.maxAbs(t, exact) < 1e-4, "max " + Oracle.maxAbs(t, exact));
  }

  @Test
  void aGridWithoutInteriorPointsIsReturnedAsIs() {
    Grid one = GridSpec.karras().build(Edm.DEFAULT, 1);
    double[] cal = states(one, 0, 4);
    GridOptimizer.Result r = GridOptimizer.optimize(mix.denoiser(), new long[] {2},
        SamplerRegistry.create("euler", Map.of()), one, cal, ExactFlow.solve(mix, cal.clone(), 80, 0), 10);
    assertEquals(r.startError(), r.error(), 0);
  }

  @Test
  void badInputIsRefusedByName() {
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 3);
    double[] cal = states(g, 0, 2);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GridOptimizer.optimize(mix.denoiser(),
        new long[] {2}, SamplerRegistry.create("euler-ancestral", Map.of()), g, cal, cal, 10)).getMessage()
        .contains("deterministic"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GridOptimizer.optimize(mix.denoiser(),
        new long[] {2}, SamplerRegistry.create("euler", Map.of()), g, cal, new double[2], 10)).getMessage()
        .contains("equal length"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GridOptimizer.optimize(List.of(),
        SamplerRegistry.create("euler", Map.of()), g, 10)).getMessage().contains("calibration"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> GridOptimizer.optimize(mix.denoiser(),
        new long[] {2}, SamplerRegistry.create("euler", Map.of()), g, cal, cal, 0)).getMessage()
        .contains("maxEvaluations"));
  }
}
