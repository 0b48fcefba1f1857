package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.Test;

/** The few-step grids of flow-map runs: their default intermediate levels and user-given ones. */
class FlowMapRunsTest {
  private static RunConfig run(String objective) {
    DataSource data = DataSources.parse("two-moons");
    return new RunConfig(new MlpConfig(2, 32, 1, 16, 0), Edm.DEFAULT, objective, 0.5, "two-moons",
        data.sampleShape(), data.scaling(), 0, 0, false, TrainSettings.defaults(false, 12));
  }

  private static double[] sigmas(Grid g) {
    double[] s = new double[g.steps() + 1];
    for (int i = 0; i <= g.steps(); i++) {
      s[i] = g.sigma(i);
    }
    return s;
  }

  @Test
  void twoStepSCmRunsStopAtTheTrigFlowTimeOnePointOneAndOthersAtTheKarrasLevel() {
    NoiseProcess p = Edm.DEFAULT;
    double max = FlowMapRuns.sigmaMax(p);
    for (String objective : new String[] {"sct", "scd"}) {
      double[] s = sigmas(FlowMapRuns.grid(run(objective), p, 2));
      assertEquals(3, s.length);
      assertEquals(max, s[0], 1e-9 * max, objective);
      assertEquals(0.5 * Math.tan(1.1), s[1], 1e-9, objective + ": σ_d·tan(t_mid)");
      assertEquals(0, s[2], objective);
      // One and four steps keep the Karras levels of the consistency grid.
      assertEquals(sigmas(FlowMapRuns.grid(p, 4))[1], sigmas(FlowMapRuns.grid(run(objective), p, 4))[1], 0);
    }
    double[] karras = sigmas(FlowMapRuns.grid(run("ct"), p, 2));
    double a = Math.pow(max, 1 / 7.0);
    double b = Math.pow(org.diffusion4j.denoiser.Preconditioning.Consistency.DEFAULT_SIGMA_MIN, 1 / 7.0);
    assertEquals(Math.pow(a + 0.5 * (b - a), 7), karras[1], 1e-9, "ct: the Karras midpoint");
  }

  @Test
  void givenIntermediateLevelsReplaceTheDefaultsAndBadOnesAreRefusedByValue() {
    NoiseProcess p = Edm.DEFAULT;
    double[] s = sigmas(FlowMapRuns.grid(run("ct"), p, 3, new double[] {2.0, 0.4}));
    assertEquals(2.0, s[1], 1e-9);
    assertEquals(0.4, s[2], 1e-9);
    assertEquals(0, s[3]);
    s = sigmas(FlowMapRuns.grid(run("sct"), p, 2, new double[] {0.6}));
    assertEquals(0.6, s[1], 1e-9, "a given level wins over the sCM default");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FlowMapRuns.grid(run("ct"), p, 2, new double[] {1, 0.5}));
    assertTrue(e.getMessage().contains("steps - 1 = 1 intermediate level(s) for 2 step(s), got 2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapRuns.grid(run("ct"), p, 3, new double[] {0.5, 1}));
    assertTrue(e.getMessage().contains("got 1.0 after 0.5"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapRuns.grid(run("ct"), p, 2, new double[] {500}));
    assertTrue(e.getMessage().contains("inside (0, σ_max = 80"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapRuns.grid(run("ct"), p, 2, new double[] {0}));
    assertTrue(e.getMessage().contains("got 0.0"), e.getMessage());
  }
}
