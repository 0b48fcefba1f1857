package org.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.sampling.sde.EdmStochastic;
import org.junit.jupiter.api.Test;

/** The MNIST budget's sampler choice: the same sampler on both sides, bad choices named. */
class MnistBudgetSamplerTest {
  @Test
  void heunAndEdmReachOurRegistryAndTheTwinFlags() {
    MnistBudgetBench.SamplerChoice h = MnistBudgetBench.SamplerChoice.parse("heun", null);
    assertEquals(new Heun(), h.create());
    List<String> hf = h.twinFlags();
    assertEquals("heun", hf.get(hf.indexOf("--sampler") + 1));
    assertEquals("0.0", hf.get(hf.indexOf("--s-churn") + 1));
    assertEquals("heun 18 steps (NFE 35) on the Karras grid", h.describe(18));

    MnistBudgetBench.SamplerChoice e = MnistBudgetBench.SamplerChoice.parse("edm", "40, 0.05,50,1.003");
    assertEquals(new EdmStochastic(40, 0.05, 50, 1.003), e.create());
    List<String> ef = e.twinFlags();
    assertEquals("edm", ef.get(ef.indexOf("--sampler") + 1));
    assertEquals("40.0", ef.get(ef.indexOf("--s-churn") + 1));
    assertEquals("0.05", ef.get(ef.indexOf("--s-tmin") + 1));
    assertEquals("50.0", ef.get(ef.indexOf("--s-tmax") + 1));
    assertEquals("1.003", ef.get(ef.indexOf("--s-noise") + 1));
    assertTrue(e.describe(18).contains("S_churn 40, S_tmin 0.05, S_tmax 50, S_noise 1.003"), e.describe(18));

    // no --churn: EDM's stochastic settings; omitted numbers take EDM's values too
    assertEquals(new EdmStochastic(40, 0.05, 50, 1.003), MnistBudgetBench.SamplerChoice.parse("edm", null).create());
    assertEquals(new EdmStochastic(10, 0.05, 50, 1.003), MnistBudgetBench.SamplerChoice.parse("edm", "10").create());
    MnistBudgetBench.SamplerChoice c = MnistBudgetBench.SamplerChoice.parse("edm", "10,0,inf");
    assertEquals(new EdmStochastic(10, 0, Double.POSITIVE_INFINITY, 1.003), c.create());
    assertEquals("inf", c.twinFlags().get(c.twinFlags().indexOf("--s-tmax") + 1));
  }

  @Test
  void badChoicesAreNamed() {
    for (String[] bad : new String[][] {{"dpmpp-2m", null, "dpmpp-2m"}, {"heun", "40", "needs --sampler edm"},
        {"edm", "-1", "-1"}, {"edm", "40,x", "'x'"}, {"edm", "40,1,0.5", "S_tmin ≤ S_tmax"},
        {"edm", "1,2,3,4,5", "at most 4"}}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> MnistBudgetBench.SamplerChoice.parse(bad[0], bad[1]));
      assertTrue(e.getMessage().contains(bad[2]), e.getMessage());
    }
  }

  @Test
  void classConditionalKnobsReachTheTwinAndAskForEachDigitAlike() {
    MnistBudgetBench.Options o = MnistBudgetBench.Options.parse(new String[] {"--config", "classes=10,labeldrop=0.2",
        "--guidance", "1.5"});
    assertEquals(10, o.knobs().classes());
    assertEquals(10, o.knobs().network().classes());
    assertEquals(1.5, o.guidance());
    List<String> f = o.knobs().twinFlags();
    assertEquals("10", f.get(f.indexOf("--classes") + 1));
    assertEquals("0.2", f.get(f.indexOf("--label-dropout") + 1));
    assertTrue(MnistBudgetBench.guidanceText(o.knobs(), 1.5).contains("classifier-free guidance w 1.5"));
    assertEquals("", MnistBudgetBench.guidanceText(MnistBudgetBench.Knobs.parse("classes=0"), 1));
    // sample i asks for digit i mod 10 (mnist_budget.py: torch.arange(start, start + k) % classes)
    long[] labels = MnistBudgetBench.requestedLabels(25);
    assertEquals(0, labels[0]);
    assertEquals(9, labels[19]);
    assertEquals(4, labels[24]);
    // class-conditional by default (the README's grid); classes=0 is the unconditional network, the twin told so
    assertEquals(10, MnistBudgetBench.Knobs.parse(null).classes());
    assertEquals(1.0, MnistBudgetBench.Options.parse(new String[0]).guidance());
    MnistBudgetBench.Knobs u = MnistBudgetBench.Knobs.parse("classes=0");
    assertEquals(0, u.network().classes());
    assertEquals("0", u.twinFlags().get(u.twinFlags().indexOf("--classes") + 1));
  }

  @Test
  void theCommandLineIsCheckedBeforeAnythingRuns() {
    MnistBudgetBench.Options o = MnistBudgetBench.Options.parse(new String[] {"--n", "200", "--sampler", "heun"});
    assertEquals(200, o.n());
    assertEquals(new Heun(), o.sampler().create());
    assertEquals(new EdmStochastic(40, 0.05, 50, 1.003), MnistBudgetBench.Options.parse(new String[0]).sampler().create());
    String[][] bad = {{"--minutes", "abc"}, {"--churn", "40,x"}, {"--only", "both2"}, {"--bogus", "1"}, {"--n"},
        {"--config", "classes=0", "--guidance", "2"}, {"--guidance", "x"}, {"--config", "classes=7"},
        {"--config", "classes=10,labeldrop=1"}};
    String[] named = {"--minutes abc", "'x'", "--only both2", "'--bogus'", "--n needs a value",
        "--guidance 2 needs a class-conditional network", "--guidance x", "classes=7", "labeldrop=1.0"};
    for (int i = 0; i < bad.length; i++) {
      String[] args = bad[i];
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> MnistBudgetBench.Options.parse(args));
      assertTrue(e.getMessage().contains(named[i]), e.getMessage());
    }
  }
}
