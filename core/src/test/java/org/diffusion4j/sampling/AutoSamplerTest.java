package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class AutoSamplerTest {
  private final GaussianMixture mix = Oracle.mixture();

  @Test
  void spendsTheGridsStepsAsNfeAndKeepsItsEndpoints() {
    for (int steps : new int[] {2, 3, 4, 5, 6, 8, 10, 15, 20}) {
      Grid g = GridSpec.karras().build(Edm.DEFAULT, steps);
      AutoSampler.Choice c = AutoSampler.choose(g);
      assertEquals(steps, c.grid().steps(), "steps " + steps);
      assertEquals(g.sigma(0), c.grid().sigma(0), 0);
      assertEquals(0, c.grid().sigma(steps), 0);
      double[] eps = Oracle.normals(4, 2);
      Oracle.Run r = Oracle.run(new AutoSampler(), mix.denoiser(), g, Oracle.prior(g, eps), 2, DataType.FLOAT64,
          NoiseSource.NONE);
      assertEquals(steps, r.nfe(), "NFE at " + steps + " steps");
    }
  }

  @Test
  void usesTheTablesOptimisedSigmasUpToTenNfe() {
    for (AutoSampler.Entry e : AutoSampler.table()) {
      if (e.sigmas() == null) {
        continue;
      }
      Grid g = GridSpec.karras().build(Edm.DEFAULT, e.nfe());
      Grid placed = AutoSampler.choose(g).grid();
      for (int i = 0; i < e.sigmas().length; i++) {
        assertEquals(e.sigmas()[i], placed.sigma(i + 1), 0, "NFE " + e.nfe() + " point " + (i + 1));
      }
      assertEquals(e.sampler(), AutoSampler.choose(g).sampler().id());
    }
  }

  @Test
  void beatsDpmSolverPlusPlus2mOnKarrasAtFewNfeOnAMixtureItWasNotTunedOn() {
    Sampler peer = SamplerRegistry.create("dpmpp-2m", Map.of());
    for (int nfe : new int[] {4, 5, 6, 8}) {
      Grid g = GridSpec.karras().build(Edm.DEFAULT, nfe);
      double auto = Oracle.error(new AutoSampler(), mix, g, 64);
      double base = Oracle.error(peer, mix, g, 64);
      assertTrue(auto < base, "NFE " + nfe + ": auto " + auto + " vs dpmpp-2m karras " + base);
    }
  }

  @Test
  void runsTheGivenGridWhenItCannotPlaceItsOwn() {
    Grid lambda = GridSpec.uniformLambda().build(VpLinear.DEFAULT, 6);
    assertSame(lambda, AutoSampler.choose(lambda).grid());
    Grid ddpm = new GridSpec.Timesteps("trailing", 0, false).build(DiscreteDdpm.DEFAULT, 5);
    assertSame(ddpm, AutoSampler.choose(ddpm).grid());
    // A σ_max below the table's first interior σ: the Karras grid over the given endpoints instead.
    Grid small = GridSpec.karras(0.01, 0.05, 7).build(Edm.DEFAULT, 5);
    Grid placed = AutoSampler.choose(small).grid();
    assertEquals(0.05, placed.sigma(0), 1e-16);
    assertEquals(0.01, placed.sigma(4), 1e-15);
  }

  @Test
  void isTheRegistrysFirstEntryAndTakesNoParameters() {
    assertEquals("auto", SamplerRegistry.all().get(0).id());
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("auto", Map.of("order", "2"))).getMessage().contains("order"));
    List<AutoSampler.Entry> t = AutoSampler.table();
    assertTrue(t.size() >= 2 && t.get(0).nfe() <= 3, t.toString());
  }
}
