package org.diffusion4j.train.guidance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PseudoinverseGuidance;
import org.diffusion4j.train.nn.Mlp;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;

/**
 * ΠGDM's vector–Jacobian product through a real network: its correction is −wσ² times the gradient of
 * ½ (y − A D(x̂))ᵀ (r² A Aᵀ + σ_y² I)⁻¹ (y − A D(x̂)) (the covariance held fixed, as Song et al. do),
 * against central differences of the network — for a 1-row A (closed-form inverse) and a 2 × 2 A whose
 * Gram matrix is not diagonal (conjugate gradients).
 */
class PigdmThroughNetworkTest {
  @Test
  void correctionMatchesFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      Mlp net = new MlpConfig(2, 32, 2, 16, 0).build();
      net.initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
      NetworkDenoiser d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      double[][][] ops = {{{1, -0.5}}, {{1, -0.5}, {0.3, 1}}};
      double[][] ys = {{0.7}, {0.7, -0.4}};
      double sy = 0.1;
      double w = 0.6;
      double[] x = {0.4, -1.1, 1.5, 0.2};
      double[] sigma = {0.5, 2};
      for (int o = 0; o < ops.length; o++) {
        double[][] a = ops[o];
        double[] y = ys[o];
        MeasurementOperator op = MeasurementOperator.linear(a);
        assertEquals(o == 0, op.gramDiagonal(new long[] {2}).isPresent());
        PseudoinverseGuidance pi = new PseudoinverseGuidance(d, op, y,
            PseudoinverseGuidance.Options.of(sy, 0.5).withScale(w));
        double[] guided = pi.denoise(m.create(x, new Shape(2, 2)), sigma, Conditioning.NONE).toDoubleArray();
        double[] plain = d.denoise(m.create(x, new Shape(2, 2)), sigma, Conditioning.NONE).toDoubleArray();
        double h = 1e-2;
        double largest = 0;
        for (int j = 0; j < 4; j++) {
          int k = j / 2;
          double s = sigma[k];
          double r2 = 0.25 * s * s / (0.25 + s * s);
          double[] p = x.clone();
          double[] q = x.clone();
          p[j] += h;
          q[j] -= h;
          double fd = (quadratic(d, m, p, k, s, a, y, r2, sy) - quadratic(d, m, q, k, s, a, y, r2, sy)) / (2 * h);
          double expected = -w * s * s * fd;
          assertEquals(expected, guided[j] - plain[j], 2e-3 + 2e-2 * Math.abs(expected), "A " + o + " value " + j);
          largest = Math.max(largest, Math.abs(expected));
        }
        assertTrue(largest > 1e-2, "a vanishing correction tests nothing: " + largest);
      }
    }
  }

  /** ½ rᵀ Σ⁻¹ r for sample k of the batch x, r = y − A D(x̂), Σ = r² A Aᵀ + σ_y² I (1 × 1 or 2 × 2). */
  private static double quadratic(NetworkDenoiser d, NDManager m, double[] x, int k, double s, double[][] a,
      double[] y, double r2, double sy) {
    double[] den = d.denoise(m.create(x, new Shape(2, 2)), new double[] {0.5, 2}, Conditioning.NONE).toDoubleArray();
    int rows = a.length;
    double[] r = new double[rows];
    for (int i = 0; i < rows; i++) {
      r[i] = y[i] - a[i][0] * den[2 * k] - a[i][1] * den[2 * k + 1];
    }
    double[][] c = new double[rows][rows];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < rows; j++) {
        c[i][j] = r2 * (a[i][0] * a[j][0] + a[i][1] * a[j][1]) + (i == j ? sy * sy : 0);
      }
    }
    if (rows == 1) {
      return 0.5 * r[0] * r[0] / c[0][0];
    }
    double det = c[0][0] * c[1][1] - c[0][1] * c[1][0];
    double u0 = (c[1][1] * r[0] - c[0][1] * r[1]) / det;
    double u1 = (-c[1][0] * r[0] + c[0][0] * r[1]) / det;
    return 0.5 * (r[0] * u0 + r[1] * u1);
  }
}
