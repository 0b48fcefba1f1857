package org.diffusion4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Statistics accumulated on shards and merged equal those of the whole set. */
class ShardedStatisticsTest {

  private static double[] points(int n, int d, double offset, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = offset + (i % d) + r.nextGaussian() * (1 + 0.3 * (i % d));
    }
    return x;
  }

  @Test
  void mergedFeatureStatisticsEqualOnePass() {
    int d = 5;
    double[] x = points(300, d, 100, 1);
    FeatureStatistics whole = new FeatureStatistics(d).add(x);
    // Shards of different sizes, each centred on its own first batch, merged in a tree: ((a b) (c (empty d))).
    FeatureStatistics a = new FeatureStatistics(d).add(Arrays.copyOfRange(x, 0, 7 * d));
    FeatureStatistics b = new FeatureStatistics(d).add(Arrays.copyOfRange(x, 7 * d, 100 * d));
    FeatureStatistics c = new FeatureStatistics(d).add(Arrays.copyOfRange(x, 100 * d, 101 * d));
    FeatureStatistics e = new FeatureStatistics(d);
    FeatureStatistics f = new FeatureStatistics(d).add(Arrays.copyOfRange(x, 101 * d, 300 * d));
    FeatureStatistics merged = a.merge(b).merge(c.merge(e.merge(f)));
    assertEquals(300, merged.count());
    assertArrayEquals(whole.mean(), merged.mean(), 1e-11);
    assertArrayEquals(whole.covariance(), merged.covariance(), 1e-10);
    // And the distance built from them.
    FeatureStatistics ref = new FeatureStatistics(d).add(points(200, d, 100.5, 2));
    assertEquals(FrechetDistance.of(whole, ref), FrechetDistance.of(merged, ref), 1e-9);
    assertThrows(IllegalArgumentException.class, () -> merged.merge(new FeatureStatistics(4)));
  }

  /** The full-set unbiased MMD² with the KID kernel, pair by pair. */
  private static double bruteKid(double[] x, double[] y, int d) {
    int n = x.length / d;
    int m = y.length / d;
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i != j) {
          xx += k(x, i, x, j, d);
        }
      }
      for (int j = 0; j < m; j++) {
        xy += k(x, i, y, j, d);
      }
    }
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        if (i != j) {
          yy += k(y, i, y, j, d);
        }
      }
    }
    return xx / (n * (n - 1.0)) + yy / (m * (m - 1.0)) - 2 * xy / ((double) n * m);
  }

  private static double k(double[] a, int i, double[] b, int j, int d) {
    double dot = 0;
    for (int t = 0; t < d; t++) {
      dot += a[i * d + t] * b[j * d + t];
    }
    double u = dot / d + 1;
    return u * u * u;
  }

  @Test
  void kernelStatisticsGiveThePairwiseKidAndMergeExactly() {
    int d = 4;
    double[] x = points(120, d, 0, 3);
    double[] y = points(90, d, 0.4, 4);
    KernelStatistics sx = new KernelStatistics(d).add(x);
    KernelStatistics sy = new KernelStatistics(d).add(y);
    double want = bruteKid(x, y, d);
    assertEquals(want, sx.kid(sy), 1e-9 * Math.max(1, Math.abs(want)));
    assertTrue(sx.kid(sy) > 0.01, "shifted sets are apart: " + sx.kid(sy));
    // Two sets of one law: the unbiased estimate is near 0 (either sign).
    double[] x2 = points(120, d, 0, 5);
    assertEquals(0, sx.kid(new KernelStatistics(d).add(x2)), 0.2 * sx.kid(sy));
    // Shards merged in any order, and a round trip through bytes.
    KernelStatistics parts = new KernelStatistics(d).add(Arrays.copyOfRange(x, 0, 50 * d))
        .merge(KernelStatistics.fromBytes(new KernelStatistics(d).add(Arrays.copyOfRange(x, 50 * d, 120 * d)).toBytes()));
    assertEquals(120, parts.count());
    assertEquals(sx.kid(sy), parts.kid(sy), 1e-12);
    assertEquals(sx.kid(sy), sy.kid(sx), 1e-12);
  }

  @Test
  void kernelStatisticsRejectWhatTheyCannotUse() {
    KernelStatistics s = new KernelStatistics(3);
    assertThrows(IllegalArgumentException.class, () -> s.add(new double[] {1, Double.NaN, 0}));
    assertThrows(IllegalArgumentException.class, () -> s.add(new double[] {1, Double.POSITIVE_INFINITY, 0}));
    assertThrows(IllegalArgumentException.class, () -> s.add(new double[] {1, 2}));
    s.add(new double[] {1, 2, 3});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.kid(new KernelStatistics(3).add(new double[] {1, 2, 3, 4, 5, 6})));
    assertTrue(e.getMessage().contains("at least 2"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.merge(new KernelStatistics(2)));
    assertThrows(IllegalArgumentException.class, () -> KernelStatistics.fromBytes(new byte[] {0, 0, 0, 3, 1}));
    assertThrows(IllegalArgumentException.class, () -> new KernelStatistics(0));
  }
}
