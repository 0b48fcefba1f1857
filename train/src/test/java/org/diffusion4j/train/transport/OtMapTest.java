package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * OT-CFM's minibatch coupling on Gaussian → Gaussian recovers the affine OT map: regressing the paired
 * x1 on x0 over many batches gives {@code T(x) = m1 + diag(s1/s0)(x − m0)} (Brenier; for diagonal
 * covariances the map is coordinate-wise), while the independent coupling gives slope 0.
 */
class OtMapTest {
  static final double[] M0 = {1, -1};
  static final double[] S0 = {1, 0.5};
  static final double[] M1 = {-2, 3};
  static final double[] S1 = {0.5, 1.5};

  private static double[][] regress(Coupling c, int batches, int n) {
    SplittableRandom rng = new SplittableRandom(21);
    // Per coordinate j: least squares x1_j ≈ α_j + β_j x0_j, plus the cross slope on x0_{1−j}.
    double[][] sums = new double[2][6];
    double residual = 0;
    for (int b = 0; b < batches; b++) {
      double[] x0 = new double[2 * n];
      double[] x1 = new double[2 * n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
          x0[2 * i + j] = M0[j] + S0[j] * rng.nextGaussian();
          x1[2 * i + j] = M1[j] + S1[j] * rng.nextGaussian();
        }
      }
      int[] p = c.pair(new Points(x0, n, 2), new Points(x1, n, 2), null, rng);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
          double u = x0[2 * i + j];
          double y = x1[2 * p[i] + j];
          double[] s = sums[j];
          s[0] += 1;
          s[1] += u;
          s[2] += y;
          s[3] += u * u;
          s[4] += u * y;
          s[5] += x0[2 * i + (1 - j)] * y;
          double mapped = M1[j] + S1[j] / S0[j] * (u - M0[j]);
          residual += (y - mapped) * (y - mapped);
        }
      }
    }
    double[][] out = new double[3][2];
    for (int j = 0; j < 2; j++) {
      double[] s = sums[j];
      double beta = (s[4] - s[1] * s[2] / s[0]) / (s[3] - s[1] * s[1] / s[0]);
      out[0][j] = beta;
      out[1][j] = s[2] / s[0] - beta * s[1] / s[0];
    }
    out[2][0] = residual / (batches * n);
    return out;
  }

  @Test
  void exactMinibatchOtRecoversTheAffineMap() {
    double[][] r = regress(new Coupling.ExactOt(), 20, 256);
    for (int j = 0; j < 2; j++) {
      double slope = S1[j] / S0[j];
      assertEquals(slope, r[0][j], 0.05 * slope, "slope of coordinate " + j);
      assertEquals(M1[j] - slope * M0[j], r[1][j], 0.1, "intercept of coordinate " + j);
    }
    // Minibatch OT is close to the map pointwise (its mean squared deviation shrinks with n).
    double independent = regress(new Coupling.Independent(), 5, 256)[2][0];
    assertTrue(r[2][0] < 0.1 * independent, "OT residual " + r[2][0] + " vs independent " + independent);
    double[][] ind = regress(new Coupling.Independent(), 5, 256);
    assertEquals(0, ind[0][0], 0.05);
    // Entropic OT with small ε is nearly the map too, with large ε nearly independent.
    assertTrue(regress(new Coupling.EntropicOt(Sinkhorn.Options.of(0.05)), 5, 128)[2][0] < 0.2 * independent);
    assertTrue(regress(new Coupling.EntropicOt(Sinkhorn.Options.of(1e4)), 5, 128)[2][0] > 0.8 * independent);
  }
}
