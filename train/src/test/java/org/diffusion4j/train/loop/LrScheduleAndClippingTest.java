package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;

class LrScheduleAndClippingTest {
  @Test
  void warmUpThenConstant() {
    LrSchedule s = LrSchedule.constant(1e-3, 4);
    assertEquals(0.0, s.at(0), 0);
    assertEquals(0.5e-3, s.at(2), 1e-18);
    assertEquals(0.75e-3, s.at(3), 1e-18);
    assertEquals(1e-3, s.at(4), 0);
    assertEquals(1e-3, s.at(1_000_000), 0);
    assertEquals(2e-4, LrSchedule.constant(2e-4, 0).at(0), 0);
  }

  @Test
  void warmUpThenCosine() {
    LrSchedule s = LrSchedule.cosine(1.0, 10, 110);
    assertEquals(0.5, s.at(5), 1e-15);
    assertEquals(1.0, s.at(10), 1e-15);
    assertEquals(0.5, s.at(60), 1e-15);                                   // half-way: ½(1 + cos π/2)
    assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.25)), s.at(35), 1e-15); // a quarter in
    assertEquals(0.0, s.at(110), 1e-15);
    assertEquals(0.0, s.at(500), 1e-15);
    LrSchedule f = new LrSchedule(1.0, 0, true, 100, 0.1);
    assertEquals(0.1 + 0.9 * 0.5, f.at(50), 1e-15);
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.cosine(1, 10, 10));
    assertThrows(IllegalArgumentException.class, () -> LrSchedule.constant(-1, 0));
  }

  @Test
  void underABudgetTheCosineFollowsWhicheverIsFurtherStepsOrClock() {
    LrSchedule s = LrSchedule.cosine(1.0, 10, 110);
    assertEquals(0.5, s.at(5, 0.9), 1e-15);                               // warm-up ignores the clock
    assertEquals(0.5, s.at(10, 0.5), 1e-15);                              // the clock is ahead: half-way
    assertEquals(0.5, s.at(60, 0.1), 1e-15);                              // the steps are ahead
    assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.75)), s.at(20, 0.75), 1e-15);
    assertEquals(0.0, s.at(11, 1.0), 1e-15);
    assertEquals(0.0, s.at(11, 7.0), 1e-15);                              // past the budget: flat at minLr
    assertEquals(s.at(35), s.at(35, 0), 0);
    assertEquals(2e-3, LrSchedule.constant(2e-3, 10).at(50, 0.99), 0);   // constant ignores the clock
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.at(20, -0.5));
    assertTrue(e.getMessage().contains("-0.5"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.at(20, Double.NaN));
  }

  @Test
  void globalNormClippingMatchesHandComputation() {
    try (NDManager m = NDManager.newBaseManager()) {
      // ‖(3, 4)‖² + ‖(12)‖² = 25 + 144 = 169 → norm 13.
      NDArray a = m.create(new float[] {3, 4});
      NDArray b = m.create(new float[] {12});
      double norm = GradientClipping.clipGlobalNorm(List.of(a, b), 1.3);
      assertEquals(13.0, norm, 1e-6);
      double c = 1.3 / (13 + 1e-6);
      assertArrayEquals(new float[] {(float) (3 * c), (float) (4 * c)}, a.toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {(float) (12 * c)}, b.toFloatArray(), 1e-6f);
      assertEquals(1.3, GradientClipping.globalNorm(List.of(a, b)), 1e-6);
      // Below the threshold nothing changes.
      GradientClipping.clipGlobalNorm(List.of(a, b), 100);
      assertArrayEquals(new float[] {(float) (12 * c)}, b.toFloatArray(), 0f);
    }
  }

  @Test
  void clippingActsOnRealGradientsInPlace() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1, 2, 3}, new Shape(3));
      w.setRequiresGradient(true);
      try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        NDArray loss = w.square().sum().mul(5); // grad = 10 w = (10, 20, 30), norm 10√14
        gc.backward(loss);
      }
      double norm = GradientClipping.clipGlobalNorm(List.of(w.getGradient()), 1.0);
      assertEquals(10 * Math.sqrt(14), norm, 1e-4);
      float[] g = w.getGradient().toFloatArray();
      double k = 1.0 / (10 * Math.sqrt(14) + 1e-6);
      assertArrayEquals(new float[] {(float) (10 * k), (float) (20 * k), (float) (30 * k)}, g, 1e-6f);
    }
  }

  /** The one-call {@code _foreach_mul_} scaling gives the per-tensor {@code Scalars.muli} numbers bit for bit. */
  @Test
  void foreachScalingEqualsPerTensorScalingBitForBit() {
    try (NDManager m = NDManager.newBaseManager()) {
      java.util.List<NDArray> a = new java.util.ArrayList<>();
      java.util.List<NDArray> b = new java.util.ArrayList<>();
      for (int i = 0; i < 5; i++) {
        NDArray x = m.randomNormal(new Shape(7, i + 1));
        a.add(x);
        b.add(x.duplicate());
      }
      double c = 1.0 / (Math.PI * 3 + 1e-6);
      org.diffusion4j.train.nn.NativeOps.scale(a, c);
      for (NDArray x : b) {
        org.diffusion4j.tensor.Scalars.muli(x, c);
      }
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(b.get(i).toFloatArray(), a.get(i).toFloatArray(), 0f, "tensor " + i);
      }
    }
  }
}
