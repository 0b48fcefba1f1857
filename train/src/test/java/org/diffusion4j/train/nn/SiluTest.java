package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SiluTest {

  /** silu(x) = x/(1 + e^{-x}) and its derivative σ(x)(1 + x(1 − σ(x))), in double. */
  private static double silu(double x) {
    return x / (1 + Math.exp(-x));
  }

  private static double siluPrime(double x) {
    double s = 1 / (1 + Math.exp(-x));
    return s * (1 + x * (1 - s));
  }

  /** Values and input gradients (of Σ w·silu(x)) against the closed forms, for a tensor of {@code size}. */
  private static void check(long size, DataType type, double tol) {
    Random r = new Random(size);
    double[] x = new double[(int) size];
    double[] w = new double[(int) size];
    for (int i = 0; i < size; i++) {
      // Wide range: far tails (±30) where sigmoid saturates, and 0.
      x[i] = i % 97 == 0 ? (i % 2 == 0 ? 30 : -30) : i % 89 == 0 ? 0 : 4 * r.nextGaussian();
      w[i] = r.nextGaussian();
    }
    try (NDManager m = NDManager.newBaseManager()) {
      Shape shape = new Shape(size / 4, 4);
      NDArray xa = m.create(x, shape).toType(type, false);
      NDArray wa = m.create(w, shape).toType(type, false);
      xa.setRequiresGradient(true);
      double[] y;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = Silu.apply(xa);
        y = out.toType(DataType.FLOAT64, false).toDoubleArray();
        gc.backward(out.mul(wa).sum());
      }
      double[] g = xa.getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
      for (int i = 0; i < size; i++) {
        assertEquals(silu(x[i]), y[i], tol * (1 + Math.abs(x[i])), "silu at x = " + x[i]);
        assertEquals(w[i] * siluPrime(x[i]), g[i], tol * (1 + Math.abs(w[i] * x[i])), "gradient at x = " + x[i]);
        assertTrue(Double.isFinite(y[i]) && Double.isFinite(g[i]));
      }
    }
  }

  @Test
  void fusedKernelMatchesTheClosedFormAndItsDerivative() {
    check(Silu.FUSED_FROM, DataType.FLOAT32, 1e-6);
    check(Silu.FUSED_FROM * 2, DataType.FLOAT64, 1e-14);
  }

  @Test
  void productPathBelowTheThresholdMatchesToo() {
    check(Silu.FUSED_FROM - 4, DataType.FLOAT32, 1e-6);
    check(64, DataType.FLOAT64, 1e-14);
  }

  @Test
  void bothPathsAgreeToFloatRounding() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.randomNormal(0, 3, new Shape(Silu.FUSED_FROM), DataType.FLOAT32);
      float[] fused = Silu.apply(x).toFloatArray();
      float[] product = x.mul(ai.djl.nn.Activation.sigmoid(x)).toFloatArray();
      for (int i = 0; i < fused.length; i++) {
        assertEquals(product[i], fused[i], 2e-6f * (1 + Math.abs(product[i])));
      }
    }
  }
}
