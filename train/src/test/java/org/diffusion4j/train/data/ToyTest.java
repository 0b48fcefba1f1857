package org.diffusion4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.SplittableRandom;
import org.diffusion4j.io.NpyArray;
import org.junit.jupiter.api.Test;

class ToyTest {
  @Test
  void everyToyIsCentredWithUnitVariance() {
    // 40k points: the standard error of a mean is ~0.005, of a variance ~0.01.
    for (Toy t : Toy.values()) {
      float[] x = t.sample(40_000, new SplittableRandom(1)).x();
      double[] sum = new double[2];
      double[] sq = new double[2];
      for (int i = 0; i < x.length; i++) {
        sum[i % 2] += x[i];
        sq[i % 2] += x[i] * x[i];
      }
      int n = x.length / 2;
      double mx = sum[0] / n;
      double my = sum[1] / n;
      double var = 0.5 * (sq[0] / n - mx * mx + sq[1] / n - my * my);
      assertEquals(0, mx, 0.03, t + " mean x");
      assertEquals(0, my, 0.03, t + " mean y");
      assertEquals(1, var, 0.04, t + " variance");
    }
  }

  @Test
  void checkerboardPointsLieOnTheDarkSquares() {
    float[] x = Toy.CHECKERBOARD.sample(2000, new SplittableRandom(3)).x();
    double s = Math.sqrt(4.0 / 3.0);
    for (int i = 0; i < x.length; i += 2) {
      int cx = (int) Math.floor(x[i] * s + 1e-9);
      int cy = (int) Math.floor(x[i + 1] * s + 1e-9);
      assertEquals(0, Math.floorMod(cx + cy, 2), "point (" + x[i] + ", " + x[i + 1] + ")");
    }
  }

  @Test
  void drawsAreReproducibleAndBatchesAreFloat32() {
    assertSame(Toy.TWO_MOONS, DataSources.parse("two-moons"));
    NpyArray a = DataSources.drawPoints("swiss-roll", 100, 42);
    NpyArray b = DataSources.drawPoints("swiss-roll", 100, 42);
    assertArrayEquals(new long[] {100, 2}, a.shape());
    assertArrayEquals(a.data(), b.data(), 0);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = DataSources.parse("pinwheel").batch(m, 8, new SplittableRandom(42));
      assertEquals(DataType.FLOAT32, x.getDataType());
      assertArrayEquals(new long[] {8, 2}, x.getShape().getShape());
      assertNull(Toy.PINWHEEL.batchWithLabels(m, 4, new SplittableRandom(1)).labels());
    }
    NpyArray d = DataSources.drawPoints("demo", 50, 7);
    assertArrayEquals(new long[] {50, 2}, d.shape());
  }

  @Test
  void unknownNamesListTheAcceptedOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSources.parse("two_moons"));
    assertTrue(e.getMessage().contains("two-moons") && e.getMessage().contains("mnist:DIR"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DataSources.parse("foo:bar"));
    assertThrows(IllegalArgumentException.class, () -> DataSources.parse("npy:"));
  }
}
