package org.diffusion4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.junit.jupiter.api.Test;

class SampleMetricsTest {
  private static final GaussianMixture GM = GaussianMixture.demo2d();

  private static long[] seeds(long from, int n) {
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = from + i;
    }
    return s;
  }

  private static double[] shift(double[] x, double dx) {
    double[] y = x.clone();
    for (int i = 0; i < y.length; i += 2) {
      y[i] += dx;
    }
    return y;
  }

  @Test
  void mmdAndEnergyAreNearZeroForOneDistributionAndGrowWithAShift() {
    double[] a = GM.sample(seeds(0, 800), 0);
    double[] b = GM.sample(seeds(10_000, 800), 0);
    double[] h = Mmd.medianBandwidths(a, b, 2);
    double same = Mmd.squared(a, b, 2, h);
    double eSame = EnergyDistance.of(a, b, 2);
    double prevM = same;
    double prevE = eSame;
    for (double dx : new double[] {0.1, 0.3, 1.0}) {
      double[] c = shift(b, dx);
      double m = Mmd.squared(a, c, 2, h);
      double e = EnergyDistance.of(a, c, 2);
      assertTrue(m > prevM && e > prevE, "shift " + dx + ": mmd " + m + " energy " + e);
      prevM = m;
      prevE = e;
    }
    // Unbiased: a same-distribution value is within sampling noise of 0, far below a small shift's.
    double small = Mmd.squared(a, shift(b, 0.3), 2, h);
    assertTrue(Math.abs(same) < small / 5, "same " + same + " vs shifted " + small);
    assertTrue(Math.abs(eSame) < EnergyDistance.of(a, shift(b, 0.3), 2) / 5, "energy same " + eSame);
  }

  @Test
  void energyDistanceOfTwoNormalsIsTheClosedForm() {
    // N(0,1) vs N(δ,1) in 1-D: E|X−Y| = 2φ(δ/√2)·√2 ... = s√(2/π)e^{−δ²/(2s²)} + δ(1 − 2Φ(−δ/s)), s = √2;
    // E|X − X'| = 2/√π.
    SplittableRandom r = new SplittableRandom(3);
    int n = 3000;
    double delta = 1.0;
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = r.nextGaussian();
      b[i] = delta + r.nextGaussian();
    }
    double s = Math.sqrt(2);
    double phiNeg = 0.5 * erfc(delta / s / Math.sqrt(2));
    double exy = s * Math.sqrt(2 / Math.PI) * Math.exp(-delta * delta / (2 * s * s)) + delta * (1 - 2 * phiNeg);
    double want = 2 * exy - 2 * (2 / Math.sqrt(Math.PI));
    assertEquals(want, EnergyDistance.of(a, b, 1), 0.03);
  }

  private static double erfc(double x) {
    // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for the test's reference.
    double t = 1 / (1 + 0.3275911 * x);
    return t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
        * Math.exp(-x * x);
  }

  @Test
  void knnKlIsNearZeroForExactSamplesAndGrowsWithAShift() {
    double[] x = GM.sample(seeds(0, 3000), 0);
    double kl0 = KnnKl.divergence(x, GM, 5);
    assertTrue(Math.abs(kl0) < 0.05, "KL of exact samples " + kl0);
    double kl1 = KnnKl.divergence(shift(x, 0.1), GM, 5);
    double kl2 = KnnKl.divergence(shift(x, 0.3), GM, 5);
    assertTrue(kl1 > kl0 + 0.02 && kl2 > kl1, kl0 + " " + kl1 + " " + kl2);
    // Entropy of a Gaussian N(0, I₂): ln(2πe).
    double[] g = GaussianMixture.gaussian(new double[] {0, 0}, 1).sample(seeds(5, 3000), 0);
    assertEquals(Math.log(2 * Math.PI * Math.E), KnnKl.entropy(g, 2, 5), 0.05);
    assertEquals(-0.5772156649015329, KnnKl.digamma(1), 1e-10);
    assertEquals(Math.log(120), KnnKl.logGamma(6), 1e-10);
  }

  @Test
  void badInputs() {
    assertThrows(IllegalArgumentException.class, () -> Mmd.squared(new double[2], new double[4], 2, 1));
    assertThrows(IllegalArgumentException.class, () -> Mmd.squared(new double[4], new double[4], 2));
    assertThrows(IllegalArgumentException.class, () -> Mmd.squared(new double[4], new double[4], 2, 0));
    assertThrows(IllegalArgumentException.class, () -> EnergyDistance.of(new double[] {0, Double.NaN, 1, 1},
        new double[4], 2));
    assertThrows(IllegalArgumentException.class, () -> KnnKl.divergence(new double[4], GM, 5));
    assertThrows(IllegalArgumentException.class, () -> KnnKl.entropy(new double[8], 2, 1));
  }
}
