package org.diffusion4j.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.junit.jupiter.api.Test;

class ThresholdingTest {
  /** A "model" whose x0-prediction is its input, so the test chooses the prediction. */
  private static final Denoiser IDENTITY = (x, sigma, c) -> x.duplicate();

  private static double[] apply(Denoiser d, double[] v, int n) {
    try (NDManager m = NDManager.newBaseManager()) {
      return d.denoise(m.create(v, new Shape(n, v.length / n)), Denoiser.constant(n, 1), Conditioning.NONE)
          .toDoubleArray();
    }
  }

  @Test
  void staticClipping() {
    double[] v = {-3, -1, -0.5, 0, 0.9, 1, 2.5, 7};
    assertArrayEquals(new double[] {-1, -1, -0.5, 0, 0.9, 1, 1, 1}, apply(Thresholding.clip(IDENTITY, 1), v, 2), 0);
    assertArrayEquals(new double[] {-2, -1, -0.5, 0, 0.9, 1, 2, 2}, apply(Thresholding.clip(IDENTITY, 2), v, 1), 0);
  }

  @Test
  void dynamicThresholdingAsSahariaEtAl() {
    // Row 0: |values| 0..9 → the 0.8-quantile is 7.2 (numpy's linear rule): clip to ±7.2, divide by 7.2.
    // Row 1: all within [−1, 1], so s = 1: unchanged.
    double[] v = new double[20];
    for (int i = 0; i < 10; i++) {
      v[i] = (i % 2 == 0 ? 1 : -1) * i;
      v[10 + i] = 0.1 * i - 0.45;
    }
    double[] out = apply(Thresholding.dynamic(IDENTITY, 0.8, 1, Double.POSITIVE_INFINITY), v, 2);
    for (int i = 0; i < 10; i++) {
      double e = Math.max(-7.2, Math.min(7.2, v[i])) / 7.2;
      assertEquals(e, out[i], 1e-12, "row 0 value " + i);
      assertEquals(v[10 + i], out[10 + i], 1e-15, "row 1 value " + i);
    }
    // sample_max_value caps s: with sMax 2, s = 2.
    double[] capped = apply(Thresholding.dynamic(IDENTITY, 0.8, 1, 2), v, 2);
    assertEquals(Math.max(-2, Math.min(2, v[9])) / 2, capped[9], 1e-12);
    assertTrue(Thresholding.parse("dynamic:0.9", IDENTITY, 1).toString().contains("0.9"));
  }

  @Test
  void badSpecs() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Thresholding.parse("median", IDENTITY, 1));
    assertTrue(e.getMessage().contains("accepted: static, dynamic"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Thresholding.parse("dynamic:x", IDENTITY, 1));
    assertThrows(IllegalArgumentException.class, () -> Thresholding.parse("dynamic:1.5", IDENTITY, 1));
    assertThrows(IllegalArgumentException.class, () -> Thresholding.clip(IDENTITY, 0));
    double[] nan = {Double.NaN, 0};
    assertThrows(IllegalArgumentException.class, () -> apply(Thresholding.parse("dynamic", IDENTITY, 1), nan, 1));
  }
}
