package org.diffusion4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FeatureMetricsTest {

  /** n points of N(mean, diag(std²)) in d dimensions. */
  private static double[] normal(int n, double[] mean, double[] std, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int d = mean.length;
    double[] x = new double[n * d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        x[i * d + j] = mean[j] + std[j] * r.nextGaussian();
      }
    }
    return x;
  }

  @Test
  void frechetDistanceOfTwoGaussiansIsTheClosedForm() {
    // Diagonal covariances: FD = ‖μ₁−μ₂‖² + Σ (s₁ − s₂)².
    double[] m1 = {0, 1, -2};
    double[] m2 = {0.5, 1, -1};
    double[] v1 = {1, 4, 0.25};
    double[] v2 = {2, 1, 0.25};
    double want = 0.25 + 1;
    for (int j = 0; j < 3; j++) {
      want += Math.pow(Math.sqrt(v1[j]) - Math.sqrt(v2[j]), 2);
    }
    assertEquals(want, FrechetDistance.of(m1, diag(v1), m2, diag(v2)), 1e-10);
    // A rotated pair: Σ₂ = R Σ₁ Rᵀ with the same spectrum gives tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), checked against the 2-D
    // closed form tr√(M) = √(tr M + 2√det M) for a 2×2 PSD M = Σ₁^½ Σ₂ Σ₁^½.
    double[] c1 = {2, 0.6, 0.6, 1};
    double[] c2 = {1.5, -0.4, -0.4, 0.8};
    double det1 = 2 * 1 - 0.36;
    double det2 = 1.5 * 0.8 - 0.16;
    double[] p = {2 * 1.5 + 0.6 * -0.4, 2 * -0.4 + 0.6 * 0.8, 0.6 * 1.5 + 1 * -0.4, 0.6 * -0.4 + 0.8};
    double trSqrt = Math.sqrt(p[0] + p[3] + 2 * Math.sqrt(det1 * det2));
    double closed = 2 + 1 + 1.5 + 0.8 - 2 * trSqrt;
    assertEquals(closed, FrechetDistance.of(new double[2], c1, new double[2], c2), 1e-10);
    assertEquals(0, FrechetDistance.of(new double[2], c1, new double[2], c1), 1e-10);
  }

  private static double[] diag(double[] v) {
    int d = v.length;
    double[] c = new double[d * d];
    for (int i = 0; i < d; i++) {
      c[i * d + i] = v[i];
    }
    return c;
  }

  @Test
  void streamingStatisticsEqualTheBatchFormulasAndRoundTrip() {
    int d = 4;
    double[] x = normal(1000, new double[] {100, -3, 0, 5}, new double[] {1, 2, 0.5, 3}, 1);
    FeatureStatistics s = new FeatureStatistics(d);
    for (int from = 0; from < 1000; from += 137) {
      s.add(java.util.Arrays.copyOfRange(x, from * d, Math.min(1000, from + 137) * d));
    }
    double[] mean = new double[d];
    for (int i = 0; i < 1000; i++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[i * d + j] / 1000;
      }
    }
    double[] cov = new double[d * d];
    for (int i = 0; i < 1000; i++) {
      for (int a = 0; a < d; a++) {
        for (int b = 0; b < d; b++) {
          cov[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / 999;
        }
      }
    }
    assertEquals(1000, s.count());
    assertArrayEquals(mean, s.mean(), 1e-10);
    assertArrayEquals(cov, s.covariance(), 1e-9);
    FeatureStatistics back = FeatureStatistics.fromBytes(s.toBytes());
    assertArrayEquals(s.covariance(), back.covariance(), 0);
    assertEquals(0, FrechetDistance.of(s, back), 1e-9);
    assertThrows(IllegalArgumentException.class, () -> new FeatureStatistics(d).mean());
    assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.fromBytes(new byte[7]));
    assertThrows(IllegalArgumentException.class, () -> s.add(new double[] {1, 2, Double.NaN, 4}));
  }

  @Test
  void fdAndKidAreNearZeroForOneDistributionAndGrowWithAShift() {
    int d = 8;
    double[] zero = new double[d];
    double[] one = new double[d];
    java.util.Arrays.fill(one, 1);
    double[] a = normal(2000, zero, one, 1);
    double[] b = normal(2000, zero, one, 2);
    double fd0 = FrechetDistance.of(new FeatureStatistics(d).add(a), new FeatureStatistics(d).add(b));
    Kid k0 = Kid.of(a, b, d, 20, 500, 0);
    double prevFd = fd0;
    double prevKid = k0.mean();
    for (double shift : new double[] {0.2, 0.5, 1}) {
      double[] mu = new double[d];
      java.util.Arrays.fill(mu, shift);
      double[] c = normal(2000, mu, one, 2);
      double fd = FrechetDistance.of(new FeatureStatistics(d).add(a), new FeatureStatistics(d).add(c));
      Kid k = Kid.of(a, c, d, 20, 500, 0);
      // FD of two Gaussians: d·shift² (+ estimation noise of order d²/n).
      assertEquals(d * shift * shift, fd, 0.05 + 0.1 * d * shift * shift);
      assertTrue(fd > prevFd && k.mean() > prevKid, "shift " + shift + ": fd " + fd + " kid " + k);
      prevFd = fd;
      prevKid = k.mean();
    }
    assertTrue(fd0 < 0.05, "fd of one distribution " + fd0);
    assertTrue(Math.abs(k0.mean()) < 3 * k0.std() + 1e-3, "kid of one distribution " + k0);
  }

  @Test
  void precisionRecallDensityCoverage() {
    int d = 2;
    double[] real = normal(600, new double[] {0, 0}, new double[] {1, 1}, 1);
    Prdc same = Prdc.of(real, normal(600, new double[] {0, 0}, new double[] {1, 1}, 2), d, 5);
    assertTrue(same.precision() > 0.8 && same.recall() > 0.8 && same.coverage() > 0.8, same.toString());
    assertEquals(1, same.density(), 0.2);
    // Mode collapse: fakes in a small blob are precise but recall and coverage fall.
    Prdc collapsed = Prdc.of(real, normal(600, new double[] {0, 0}, new double[] {0.1, 0.1}, 3), d, 5);
    assertTrue(collapsed.precision() > 0.95 && collapsed.recall() < 0.2 && collapsed.coverage() < 0.3,
        collapsed.toString());
    // Far away: nothing is precise or covered.
    Prdc far = Prdc.of(real, normal(600, new double[] {10, 10}, new double[] {1, 1}, 4), d, 5);
    assertEquals(0, far.precision(), 1e-12);
    assertEquals(0, far.coverage(), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> Prdc.of(real, new double[4], d, 5));
  }

  @Test
  void classBalanceOfProbabilities() {
    double[] p = {0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7};
    ClassBalance b = ClassBalance.of(p, 2);
    assertArrayEquals(new long[] {2, 2}, b.histogram());
    assertEquals((0.9 + 0.8 + 0.6 + 0.7) / 4, b.confidence(), 1e-12);
    assertEquals(1, b.balance(), 1e-12);
    assertEquals(0, ClassBalance.of(new double[] {1, 0, 0.9, 0.1}, 2).balance(), 1e-12);
  }
}
