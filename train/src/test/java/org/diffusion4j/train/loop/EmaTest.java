package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EmaTest {
  @Test
  void warmUpDecayMatchesHandValues() {
    Ema.WarmUp w = new Ema.WarmUp(0.999);
    assertEquals(0.1, w.beta(0), 1e-15);
    assertEquals(6.0 / 15.0, w.beta(5), 1e-15);
    assertEquals(991.0 / 1000.0, w.beta(990), 1e-15);
    assertEquals(0.999, w.beta(100_000), 0); // (1+t)/(10+t) = 0.99991 > 0.999
    assertThrows(IllegalArgumentException.class, () -> new Ema.WarmUp(1.0));
  }

  @Test
  void halfLifeDecayMatchesHandValues() {
    // No ramp-up: β = 0.5^(100/1000) = 2^(-0.1).
    Ema.HalfLife h = new Ema.HalfLife(1000, 0, 100);
    assertEquals(0.9330329915368074, h.beta(0), 1e-15);
    assertEquals(0.9330329915368074, h.beta(50), 1e-15);
    // Ramp-up 0.05: after t = 20 updates, 2000 images seen, h = min(1000, 100) = 100 → β = 0.5.
    Ema.HalfLife r = new Ema.HalfLife(1000, 0.05, 100);
    assertEquals(0.0, r.beta(0), 0);
    assertEquals(0.5, r.beta(20), 1e-15);
    assertEquals(Math.pow(0.5, 100 / 250.0), r.beta(50), 1e-15);
    assertEquals(0.9330329915368074, r.beta(200), 1e-15); // 20000·0.05 = 1000: capped
  }

  @Test
  void updatesFollowTheRecursionByHand() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray p = m.create(new double[] {1, -2});
      try (Ema e = new Ema(m, Map.of("p", p), new Ema.WarmUp(0.5))) {
        // t=0: β=0.1 → 0.1·ema + 0.9·θ; θ = (3, 4): (0.1 + 2.7, −0.2 + 3.6) = (2.8, 3.4).
        p.set(new double[] {3, 4});
        e.update(Map.of("p", p));
        assertArrayEquals(new double[] {2.8, 3.4}, e.averages().get("p").toDoubleArray(), 1e-12);
        // t=1: β=2/11; θ = (0, 0): ema·2/11.
        p.set(new double[] {0, 0});
        e.update(Map.of("p", p));
        assertArrayEquals(new double[] {2.8 * 2 / 11, 3.4 * 2 / 11}, e.averages().get("p").toDoubleArray(), 1e-12);
        // t=2..: β = min(0.5, (1+t)/(10+t)) = 3/12 = 0.25 at t=2.
        p.set(new double[] {1, 1});
        e.update(Map.of("p", p));
        double a = 0.25 * 2.8 * 2 / 11 + 0.75;
        assertEquals(a, e.averages().get("p").toDoubleArray()[0], 1e-12);
        assertEquals(3, e.updates());
        // Restore from state continues identically.
        try (Ema r = Ema.restore(m, e.state(), e.decay(), e.updates())) {
          p.set(new double[] {5, 5});
          e.update(Map.of("p", p));
          r.update(Map.of("p", p));
          assertArrayEquals(e.averages().get("p").toDoubleArray(), r.averages().get("p").toDoubleArray(), 0);
          NDArray target = m.zeros(p.getShape(), p.getDataType());
          r.copyTo(Map.of("p", target));
          assertArrayEquals(r.averages().get("p").toDoubleArray(), target.toDoubleArray(), 0);
        }
      }
    }
  }
}
