package org.diffusion4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The MNIST budget's shared knobs reach the twin as the same flags, and bad ones are named. */
class MnistBudgetKnobsTest {
  @Test
  void defaultsAndOverridesReachTheTwinFlags() {
    MnistBudgetBench.Knobs d = MnistBudgetBench.Knobs.parse(null);
    // the winners of the 20-minute grid (README, MNIST budget)
    assertEquals("cosine", d.schedule());
    assertEquals(2e-3, d.lr(), 0);
    MnistBudgetBench.Knobs k = MnistBudgetBench.Knobs.parse("lr=1e-3, schedule=constant,ema=0.999,mult=1-2");
    List<String> f = k.twinFlags();
    assertEquals("constant", f.get(f.indexOf("--schedule") + 1));
    assertEquals("0.001", f.get(f.indexOf("--lr") + 1));
    assertEquals("0.999", f.get(f.indexOf("--ema") + 1));
    assertEquals("1,2", f.get(f.indexOf("--mult") + 1));
    assertTrue(d.describe().contains("a cosine ending with the budget"), d.describe());
    assertTrue(k.describe().contains("then constant"), k.describe());
  }

  @Test
  void badKnobsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MnistBudgetBench.Knobs.parse("schedule=linear"));
    assertTrue(e.getMessage().contains("schedule=linear"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> MnistBudgetBench.Knobs.parse("lr2e-3"));
    assertTrue(e.getMessage().contains("lr2e-3"), e.getMessage());
  }
}
