package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

class SamplerLabTest {
  @Test
  void nfeIsCountedFromTheGridAndBudgetsPickTheMostStepsThatFit() {
    GridSpec karras = GridSpec.karras();
    Sampler heun = SamplerRegistry.create("heun", Map.of());
    Sampler euler = SamplerRegistry.create("euler", Map.of());
    Sampler rk4 = SamplerRegistry.create("rk4", Map.of());
    // Heun: 2 NFE per step and Euler on the last step to 0 → 2N − 1; RK4: 4N − 3.
    assertEquals(19, NfeBudget.nfe(heun, karras.build(Edm.DEFAULT, 10)));
    assertEquals(10, NfeBudget.nfe(euler, karras.build(Edm.DEFAULT, 10)));
    assertEquals(37, NfeBudget.nfe(rk4, karras.build(Edm.DEFAULT, 10)));
    assertEquals(new NfeBudget.Fit(10, 19), NfeBudget.fit(heun, karras, Edm.DEFAULT, 20).orElseThrow());
    assertEquals(new NfeBudget.Fit(2, 3), NfeBudget.fit(heun, karras, Edm.DEFAULT, 3).orElseThrow());
    assertEquals(new NfeBudget.Fit(7, 7), NfeBudget.fit(euler, karras, Edm.DEFAULT, 7).orElseThrow());
    assertEquals(new NfeBudget.Fit(1, 1), NfeBudget.fit(rk4, karras, Edm.DEFAULT, 4).orElseThrow());
    assertEquals(new NfeBudget.Fit(100, 199), NfeBudget.fit(heun, karras, Edm.DEFAULT, 200).orElseThrow());
    assertEquals(new NfeBudget.Fit(2, 5), NfeBudget.fit(rk4, karras, Edm.DEFAULT, 8).orElseThrow());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NfeBudget.fit(SamplerRegistry.create("rk45", Map.of()), karras, Edm.DEFAULT, 10));
    assertTrue(e.getMessage().contains("rk45 is adaptive"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NfeBudget.fit(heun, karras, Edm.DEFAULT, 0));
  }

  @Test
  void errorsFallWithNfeAndBudgetsSharingStepsAreRunOnce() {
    GaussianMixture gm = GaussianMixture.demo2d();
    long[] seeds = Sampling.seedRange(0, 99);
    SamplerLab.Metric exact = SamplerLab.exact(gm, seeds);
    int[] calls = {0};
    SamplerLab.Metric counted = (g, x) -> {
      calls[0]++;
      return exact.error(g, x);
    };
    List<SamplerLab.Point> pts = SamplerLab.run(gm.denoiser(), new long[] {2}, Edm.DEFAULT,
        List.of(new SamplerLab.Entry("euler", new Euler()), new SamplerLab.Entry("heun", new Heun())),
        List.of(new SamplerLab.NamedGrid("karras", GridSpec.karras())), new int[] {9, 10, 40}, seeds, 50, counted,
        null);
    assertEquals(6, pts.size());
    // heun at 9 and 10 NFE both fit 5 steps (9 NFE): one run, reported twice.
    assertEquals(5, calls[0]);
    SamplerLab.Point h10 = pts.get(3);
    SamplerLab.Point h11 = pts.get(4);
    assertEquals(9, h10.nfe());
    assertEquals(h10.error(), h11.error());
    assertEquals(10, pts.get(1).nfe());
    assertTrue(pts.get(2).error() < pts.get(0).error() / 3, pts.toString());
    assertTrue(pts.get(5).error() < pts.get(3).error() / 10, pts.toString());
    assertTrue(pts.get(5).error() < pts.get(2).error(), "Heun beats Euler at equal NFE: " + pts);
  }

  @Test
  void theExactReferenceScoresTheExactFlowAsZero() {
    GaussianMixture gm = GaussianMixture.demo2d();
    long[] seeds = Sampling.seedRange(5, 24);
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 8);
    double[] x = Sampling.prior(g, seeds, 2);
    for (int i = 0; i < x.length; i++) {
      x[i] /= g.s(0);
    }
    double[] flow = ExactFlow.solve(gm, x, g.sigma(0), 0);
    assertEquals(0, SamplerLab.exact(gm, seeds).error(g, flow), 1e-12);
    // The solver reference of the exact denoiser lands on the same points to its tolerance.
    double err = SamplerLab.solver(gm.denoiser(), new long[] {2}, seeds, 10, 1e-8).error(g, flow);
    assertTrue(err < 1e-3, "RK45 reference off by " + err);
    assertThrows(IllegalArgumentException.class, () -> SamplerLab.exact(gm, seeds).error(g, new double[4]));
  }
}
