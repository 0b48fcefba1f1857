package org.diffusion4j.train.nn;

import static org.diffusion4j.train.nn.GroupNormTest.f;
import static org.diffusion4j.train.nn.GroupNormTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SelfAttentionTest {

  /** softmax(QᵀK/√d) V per batch entry, in double: a[b][c][i] = Σ_j w[i][j] v[b][c][j]. */
  static double[] attention(double[] q, double[] k, double[] v, int batch, int d, int len) {
    double[] a = new double[batch * d * len];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < len; i++) {
        double[] w = new double[len];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
          double s = 0;
          for (int c = 0; c < d; c++) {
            s += q[(b * d + c) * len + i] * k[(b * d + c) * len + j];
          }
          w[j] = s / Math.sqrt(d);
          max = Math.max(max, w[j]);
        }
        double z = 0;
        for (int j = 0; j < len; j++) {
          w[j] = Math.exp(w[j] - max);
          z += w[j];
        }
        for (int c = 0; c < d; c++) {
          double s = 0;
          for (int j = 0; j < len; j++) {
            s += w[j] / z * v[(b * d + c) * len + j];
          }
          a[(b * d + c) * len + i] = s;
        }
      }
    }
    return a;
  }

  @Test
  void scaledDotProductMatchesDefinition() {
    Random r = new Random(1);
    int batch = 3;
    int d = 4;
    int len = 5;
    double[] q = random(r, batch * d * len, 1, 0);
    double[] k = random(r, batch * d * len, 1, 0);
    double[] v = random(r, batch * d * len, 1, 0);
    try (NDManager m = NDManager.newBaseManager()) {
      Shape s = new Shape(batch, d, len);
      float[] got = SelfAttention.attention(m.create(f(q), s), m.create(f(k), s), m.create(f(v), s))
          .toFloatArray();
      double[] expected = attention(q, k, v, batch, d, len);
      for (int i = 0; i < got.length; i++) {
        // float32 round-off.
        assertEquals(expected[i], got[i], 1e-5, "element " + i);
      }
    }
  }

  private static double[] get(Parameter p) {
    float[] a = p.getArray().toFloatArray();
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i];
    }
    return out;
  }

  /** y[n,o,l] = Σ_c W[o,c] x[n,c,l] + b[o]. */
  private static double[] conv1x1(double[] x, double[] w, double[] b, int n, int in, int out, int len) {
    double[] y = new double[n * out * len];
    for (int i = 0; i < n; i++) {
      for (int o = 0; o < out; o++) {
        for (int l = 0; l < len; l++) {
          double s = b[o];
          for (int c = 0; c < in; c++) {
            s += w[o * in + c] * x[(i * in + c) * len + l];
          }
          y[(i * out + o) * len + l] = s;
        }
      }
    }
    return y;
  }

  @Test
  void multiHeadBlockMatchesDefinition() {
    int n = 2;
    int c = 8;
    int heads = 2;
    int d = c / heads;
    int side = 3;
    int len = side * side;
    Random r = new Random(2);
    double[] x = random(r, n * c * len, 1, 0.3);
    try (NDManager m = NDManager.newBaseManager()) {
      SelfAttention block = new SelfAttention(c, heads);
      Shape shape = new Shape(n, c, side, side);
      block.initialize(m, DataType.FLOAT32, shape);
      // Give every parameter a non-trivial value (proj starts near zero, which would hide errors).
      for (var p : block.getParameters().values()) {
        p.getArray().set(f(random(r, (int) p.getShape().size(), 0.5, p.getName().equals("gamma") ? 1 : 0)));
      }
      var ps = block.getParameters();
      double[] gamma = get(ps.get("01norm_gamma"));
      double[] beta = get(ps.get("01norm_beta"));
      double[] h = GroupNormTest.groupNorm(x, n, c, GroupNorm.defaultGroups(c), gamma, beta, 1e-5);
      double[] t = conv1x1(h, get(ps.get("02qkv_weight")), get(ps.get("02qkv_bias")), n, c, 3 * c, len);
      // Split [n, 3, H, d, L] into q, k, v of [n·H, d, L].
      double[][] qkv = new double[3][n * c * len];
      for (int i = 0; i < n; i++) {
        for (int part = 0; part < 3; part++) {
          System.arraycopy(t, (i * 3 + part) * c * len, qkv[part], i * c * len, c * len);
        }
      }
      double[] a = attention(qkv[0], qkv[1], qkv[2], n * heads, d, len);
      double[] p = conv1x1(a, get(ps.get("03proj_weight")), get(ps.get("03proj_bias")), n, c, c, len);
      NDArray y = block.forward(new ParameterStore(m, false), new NDList(m.create(f(x), shape)), false)
          .singletonOrThrow();
      assertEquals(shape, y.getShape());
      float[] got = y.toFloatArray();
      for (int i = 0; i < got.length; i++) {
        double expected = (x[i] + p[i]) / Math.sqrt(2);
        // float32 round-off through GN, two 1×1 convs and softmax.
        assertEquals(expected, got[i], 1e-4, "element " + i);
      }
    }
  }
}
