package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NoiseEmbeddingTest {

  @Test
  void sinusoidalIsDdpmFormula() {
    try (NDManager m = NDManager.newBaseManager()) {
      double[] c = {0, 1.5, 999};
      int dim = 8;
      NDArray e = NoiseEmbedding.sinusoidal(m.create(GroupNormTest.f(c)), dim);
      assertEquals(new Shape(3, dim), e.getShape());
      float[] got = e.toFloatArray();
      for (int i = 0; i < c.length; i++) {
        for (int k = 0; k < 4; k++) {
          double freq = Math.pow(10000, -k / 3.0);
          // float32 argument c·f: relative round-off ~1e-7 of c·f ≤ 999 rad.
          assertEquals(Math.sin(c[i] * freq), got[i * dim + k], 2e-4);
          assertEquals(Math.cos(c[i] * freq), got[i * dim + 4 + k], 2e-4);
        }
      }
    }
  }

  @Test
  void fourierIsFixedRandomFeatures() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray c = m.create(new float[] {-0.7f, 0.2f});
      float[] a = NoiseEmbedding.embed(NoiseEmbedding.Kind.FOURIER, c, 6).toFloatArray();
      float[] b = NoiseEmbedding.embed(NoiseEmbedding.Kind.FOURIER, c, 6).toFloatArray();
      assertArrayEquals(a, b, 0);
      Random r = new Random(0);
      for (int k = 0; k < 3; k++) {
        double w = 2 * Math.PI * 16 * r.nextGaussian();
        assertEquals(Math.sin(w * 0.2), a[6 + k], 1e-4);
        assertEquals(Math.cos(w * 0.2), a[6 + 3 + k], 1e-4);
      }
      assertThrows(IllegalArgumentException.class, () -> NoiseEmbedding.sinusoidal(c, 5));
    }
  }
}
