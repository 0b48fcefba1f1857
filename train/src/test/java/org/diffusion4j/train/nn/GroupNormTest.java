package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GroupNormTest {

  /** Wu & He 2018 eq. 1–3 in double: per sample and group, mean and biased variance, then γ_c, β_c. */
  static double[] groupNorm(double[] x, int n, int c, int groups, double[] gamma, double[] beta, double eps) {
    int spatial = x.length / (n * c);
    int per = c / groups * spatial;
    double[] y = new double[x.length];
    for (int i = 0; i < n; i++) {
      for (int g = 0; g < groups; g++) {
        int start = (i * c + g * (c / groups)) * spatial;
        double mean = 0;
        for (int j = 0; j < per; j++) {
          mean += x[start + j];
        }
        mean /= per;
        double var = 0;
        for (int j = 0; j < per; j++) {
          var += (x[start + j] - mean) * (x[start + j] - mean);
        }
        var /= per;
        for (int j = 0; j < per; j++) {
          int ch = (start + j) / spatial % c;
          y[start + j] = (x[start + j] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch];
        }
      }
    }
    return y;
  }

  static double[] random(Random r, int size, double scale, double offset) {
    double[] a = new double[size];
    for (int i = 0; i < size; i++) {
      a[i] = offset + scale * r.nextGaussian();
    }
    return a;
  }

  static float[] f(double[] a) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (float) a[i];
    }
    return out;
  }

  private static void check(Shape shape, int groups) {
    Random r = new Random(7);
    int n = (int) shape.get(0);
    int c = (int) shape.get(1);
    double[] x = random(r, (int) shape.size(), 2, 0.5);
    double[] gamma = random(r, c, 1, 1);
    double[] beta = random(r, c, 1, 0);
    try (NDManager m = NDManager.newBaseManager()) {
      GroupNorm gn = new GroupNorm(groups, c);
      gn.initialize(m, DataType.FLOAT32, shape);
      gn.gamma().getArray().set(f(gamma));
      gn.beta().getArray().set(f(beta));
      NDArray y = gn.forward(new ParameterStore(m, false), new NDList(m.create(f(x), shape)), false)
          .singletonOrThrow();
      assertEquals(shape, y.getShape());
      double[] expected = groupNorm(x, n, c, groups, gamma, beta, 1e-5);
      float[] got = y.toFloatArray();
      for (int i = 0; i < got.length; i++) {
        // float32 round-off on O(1) values.
        assertEquals(expected[i], got[i], 2e-5, "element " + i);
      }
    }
  }

  @Test
  void matchesDefinitionOnImages() {
    check(new Shape(2, 6, 3, 4), 3);
  }

  @Test
  void matchesDefinitionWithOneGroupAndOnVectors() {
    check(new Shape(3, 4, 5, 5), 1);
    check(new Shape(4, 8), 2);
  }

  @Test
  void epsilonIsPyTorchDefaultOnConstantGroups() {
    // Constant input: (x − μ) = 0, so y = β exactly; a tiny-variance group shows ε = 1e-5 in use.
    try (NDManager m = NDManager.newBaseManager()) {
      GroupNorm gn = new GroupNorm(1, 2);
      gn.initialize(m, DataType.FLOAT32, new Shape(1, 2));
      NDArray x = m.create(new float[] {0.001f, -0.001f}, new Shape(1, 2));
      float[] y = gn.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow().toFloatArray();
      double expected = 0.001 / Math.sqrt(1e-6 + 1e-5);
      assertArrayEquals(new float[] {(float) expected, (float) -expected}, y, 1e-5f);
    }
  }

  /** A GroupNorm of {@code groups} over the channels of {@code shape}, initialised, γ drawn around 1 from {@code r}. */
  private static GroupNorm withRandomGamma(NDManager m, int groups, Shape shape, Random r) {
    int c = (int) shape.get(1);
    GroupNorm gn = new GroupNorm(groups, c);
    gn.initialize(m, DataType.FLOAT32, shape);
    gn.gamma().getArray().set(f(random(r, c, 1, 1)));
    return gn;
  }

  @Test
  void gradientMatchesAutogradOfTheDefinition() {
    Shape shape = new Shape(2, 6, 3, 3);
    Random r = new Random(5);
    try (NDManager m = NDManager.newBaseManager()) {
      GroupNorm gn = withRandomGamma(m, 3, shape, r);
      NDArray w = m.create(f(random(r, (int) shape.size(), 1, 0)), shape);
      float[][] grads = new float[2][];
      for (int variant = 0; variant < 2; variant++) {
        NDArray x = m.create(f(random(new Random(9), (int) shape.size(), 2, 0.5)), shape);
        x.setRequiresGradient(true);
        try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
          NDArray y;
          if (variant == 0) {
            y = gn.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
          } else {
            // The definition as plain ops: mean and biased variance per sample and group.
            NDArray g = x.reshape(2, 3, -1);
            NDArray c = g.sub(g.mean(new int[] {2}, true));
            y = c.div(c.square().mean(new int[] {2}, true).add(1e-5f).sqrt()).reshape(shape)
                .mul(gn.gamma().getArray().reshape(1, 6, 1, 1));
          }
          gc.backward(y.mul(w).sum());
        }
        grads[variant] = x.getGradient().toFloatArray();
      }
      // float32 round-off.
      assertArrayEquals(grads[1], grads[0], 1e-4f);
    }
  }

  /**
   * The fused SiLU(GroupNorm(x)) gives GroupNorm then {@code torch.silu}'s numbers exactly, forward and backward
   * in x, γ and β (the same kernels in one TorchScript call), and rejects a wrong channel count as GroupNorm does.
   */
  @Test
  void fusedSiluOfGroupNormEqualsTheTwoOpsForwardAndBackward() {
    Shape shape = new Shape(2, 8, 5, 5);
    Random r = new Random(11);
    try (NDManager m = NDManager.newBaseManager()) {
      GroupNorm gn = withRandomGamma(m, 4, shape, r);
      gn.beta().getArray().set(f(random(r, 8, 1, 0)));
      NDArray w = m.create(f(random(r, (int) shape.size(), 1, 0)), shape);
      float[][] out = new float[2][];
      float[][] grads = new float[6][];
      for (int variant = 0; variant < 2; variant++) {
        NDArray x = m.create(f(random(new Random(9), (int) shape.size(), 2, 0.5)), shape);
        x.setRequiresGradient(true);
        gn.gamma().getArray().setRequiresGradient(true);
        gn.beta().getArray().setRequiresGradient(true);
        ParameterStore ps = new ParameterStore(m, false);
        try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
          NDArray y = variant == 0 ? gn.applySilu(ps, x, true) : NativeOps.silu(gn.apply(ps, x, true));
          out[variant] = y.toFloatArray();
          gc.backward(y.mul(w).sum());
        }
        grads[3 * variant] = x.getGradient().toFloatArray();
        grads[3 * variant + 1] = gn.gamma().getArray().getGradient().toFloatArray();
        grads[3 * variant + 2] = gn.beta().getArray().getGradient().toFloatArray();
        // Parameter gradients accumulate: start the next variant from zero.
        gn.gamma().getArray().getGradient().set(new float[8]);
        gn.beta().getArray().getGradient().set(new float[8]);
      }
      assertArrayEquals(out[1], out[0], 0f);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(grads[3 + i], grads[i], 0f, "gradient " + i);
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> gn.applySilu(new ParameterStore(m, false), m.ones(new Shape(1, 6, 2, 2)), false));
      assertEquals("GroupNorm expects [n, 8, …], got (1, 6, 2, 2)", e.getMessage());
    }
  }

  @Test
  void defaultGroupsAndValidation() {
    assertEquals(8, GroupNorm.defaultGroups(32));
    assertEquals(16, GroupNorm.defaultGroups(64));
    assertEquals(24, GroupNorm.defaultGroups(96));
    assertEquals(32, GroupNorm.defaultGroups(256));
    assertEquals(1, GroupNorm.defaultGroups(3));
    assertEquals(0, 136 % GroupNorm.defaultGroups(136));
    assertThrows(IllegalArgumentException.class, () -> new GroupNorm(3, 8));
  }
}
