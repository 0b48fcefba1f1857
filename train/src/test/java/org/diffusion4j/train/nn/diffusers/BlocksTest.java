package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each block of the diffusers U-Net against its definition, on small hand-made weights. */
class BlocksTest {

  @Test
  void timestepEmbeddingOrderFlipShiftAndOddWidth() {
    double[] t = {0, 3, 417.5};
    for (boolean flip : new boolean[] {true, false}) {
      for (double shift : new double[] {0, 1}) {
        float[] e = TimestepEmbedding.sinusoidal(t, 7, flip, shift);
        for (int r = 0; r < t.length; r++) {
          for (int i = 0; i < 3; i++) {
            double a = t[r] * Math.exp(-Math.log(10000) * i / (3 - shift));
            double sin = e[r * 7 + (flip ? 3 : 0) + i];
            double cos = e[r * 7 + (flip ? 0 : 3) + i];
            assertEquals(Math.sin(a), sin, 2e-4 * Math.max(1, Math.abs(a)) * 1e-1, "sin " + flip + shift);
            assertEquals(Math.cos(a), cos, 2e-4 * Math.max(1, Math.abs(a)) * 1e-1, "cos " + flip + shift);
          }
          assertEquals(0, e[r * 7 + 6], "odd width: zero column last");
        }
      }
    }
    // t = 0: cosines are 1, sines 0, so the order is visible directly.
    float[] z = TimestepEmbedding.sinusoidal(new double[] {0}, 4, true, 0);
    assertEquals(1, z[0]);
    assertEquals(1, z[1]);
    assertEquals(0, z[2]);
    assertEquals(0, z[3]);
  }

  @Test
  void downsamplePaddingZeroPadsRightAndBottomOnly() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (int pad : new int[] {0, 1}) {
        Map<String, Parameter> names = new LinkedHashMap<>();
        Resample d = Resample.down(names, "d", 2, pad);
        d.initialize(m, DataType.FLOAT32, new Shape(1, 2, 6, 6));
        Map<String, double[]> w = Reference.fill(names, 3 + pad, 0.5);
        double[] x = Reference.randn(2 * 2 * 6 * 6, 9);
        double[] got = Reference.values(d.apply(new ParameterStore(m, false), Reference.array(m, x, 2, 2, 6, 6)));
        int[] hw = new int[2];
        double[] want = Reference.conv(x, 2, 2, 6, 6, w.get("d.conv.weight"), w.get("d.conv.bias"), 2, 3, 2,
            pad, pad, pad == 0 ? 1 : pad, pad == 0 ? 1 : pad, hw);
        assertEquals(3, hw[0]);
        assertTrue(Reference.maxRel(got, want) < 1e-5, "padding " + pad);
        if (pad == 0) {
          double[] symmetric = Reference.conv(x, 2, 2, 6, 6, w.get("d.conv.weight"), w.get("d.conv.bias"), 2, 3, 2,
              1, 1, 1, 1, hw);
          assertTrue(Reference.maxRel(got, symmetric) > 1e-2, "the asymmetric pad is not the symmetric one");
        }
      }
    }
  }

  @Test
  void upsampleIsNearestThenConv() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, Parameter> names = new LinkedHashMap<>();
      Resample u = Resample.up(names, "u", 2);
      u.initialize(m, DataType.FLOAT32, new Shape(1, 2, 3, 3));
      Map<String, double[]> w = Reference.fill(names, 4, 0.5);
      double[] x = Reference.randn(2 * 3 * 3, 5);
      double[] near = new double[2 * 6 * 6];
      for (int c = 0; c < 2; c++) {
        for (int y = 0; y < 6; y++) {
          for (int xx = 0; xx < 6; xx++) {
            near[(c * 6 + y) * 6 + xx] = x[(c * 3 + y / 2) * 3 + xx / 2];
          }
        }
      }
      double[] want = Reference.conv(near, 1, 2, 6, 6, w.get("u.conv.weight"), w.get("u.conv.bias"), 2, 3);
      double[] got = Reference.values(u.apply(new ParameterStore(m, false), Reference.array(m, x, 1, 2, 3, 3)));
      assertTrue(Reference.maxRel(got, want) < 1e-5);
    }
  }

  /** ResnetBlock2D by its definition (diffusers' forward), for either time shift. */
  private static double[] resnet(Map<String, double[]> w, double[] x, double[] emb, int n, int in, int out, int h,
      int temb, int groups, double eps, boolean scaleShift, double osf) {
    int hw = h * h;
    double[] a = Reference.silu(Reference.groupNorm(x, n, in, hw, groups, w.get("r.norm1.weight"),
        w.get("r.norm1.bias"), eps));
    double[] hid = Reference.conv(a, n, in, h, h, w.get("r.conv1.weight"), w.get("r.conv1.bias"), out, 3);
    int proj = scaleShift ? 2 * out : out;
    double[] e = Reference.linear(Reference.silu(emb), n, temb, w.get("r.time_emb_proj.weight"),
        w.get("r.time_emb_proj.bias"), proj);
    if (!scaleShift) {
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < out; c++) {
          for (int p = 0; p < hw; p++) {
            hid[(i * out + c) * hw + p] += e[i * proj + c];
          }
        }
      }
    }
    hid = Reference.groupNorm(hid, n, out, hw, groups, w.get("r.norm2.weight"), w.get("r.norm2.bias"), eps);
    if (scaleShift) {
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < out; c++) {
          for (int p = 0; p < hw; p++) {
            int at = (i * out + c) * hw + p;
            hid[at] = hid[at] * (1 + e[i * proj + c]) + e[i * proj + out + c];
          }
        }
      }
    }
    hid = Reference.conv(Reference.silu(hid), n, out, h, h, w.get("r.conv2.weight"), w.get("r.conv2.bias"), out, 3);
    double[] skip = in == out ? x : Reference.conv(x, n, in, h, h, w.get("r.conv_shortcut.weight"),
        w.get("r.conv_shortcut.bias"), out, 1);
    double[] y = new double[hid.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = (skip[i] + hid[i]) / osf;
    }
    return y;
  }

  @Test
  void resnetBlockDefaultAndScaleShiftWithShortcutAndOutputScale() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 2, in = 4, out = 6, h = 4, temb = 5, groups = 2;
      for (boolean scaleShift : new boolean[] {false, true}) {
        for (int inCh : new int[] {in, out}) {
          Map<String, Parameter> names = new LinkedHashMap<>();
          ResnetBlock2D r = new ResnetBlock2D(names, "r", inCh, out, temb, groups, 1e-6, scaleShift, 1.5, 0.3);
          r.initialize(m, DataType.FLOAT32, new Shape(1, inCh, h, h));
          assertEquals(inCh != out, names.containsKey("r.conv_shortcut.weight"));
          assertEquals(scaleShift ? 2 * out : out, names.get("r.time_emb_proj.weight").getShape().get(0));
          Map<String, double[]> w = Reference.fill(names, 11, 0.4);
          double[] x = Reference.randn(n * inCh * h * h, 12);
          double[] emb = Reference.randn(n * temb, 13);
          NDArray got = r.apply(new ParameterStore(m, false), Reference.array(m, x, n, inCh, h, h),
              Reference.array(m, emb, n, temb), false);
          double[] want = resnet(w, x, emb, n, inCh, out, h, temb, groups, 1e-6, scaleShift, 1.5);
          double e = Reference.maxRel(Reference.values(got), want);
          assertTrue(e < 1e-5, "scale_shift " + scaleShift + " in " + inCh + ": " + e);
        }
      }
    }
  }

  /** Attention by its definition: per head softmax(q kᵀ/√d) v, heads on consecutive channel slices. */
  private static double[] attention(Map<String, double[]> w, double[] x, int n, int c, int hw, int heads, int groups,
      double rescale) {
    double[] h = groups > 0 ? Reference.groupNorm(x, n, c, hw, groups, w.get("a.group_norm.weight"),
        w.get("a.group_norm.bias"), 1e-5) : x;
    double[] tokens = new double[n * hw * c]; // [n, hw, c]
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < hw; p++) {
          tokens[(i * hw + p) * c + ch] = h[(i * c + ch) * hw + p];
        }
      }
    }
    int d = c / heads;
    double[] q = Reference.linear(tokens, n * hw, c, w.get("a.to_q.weight"), w.get("a.to_q.bias"), c);
    double[] k = Reference.linear(tokens, n * hw, c, w.get("a.to_k.weight"), w.get("a.to_k.bias"), c);
    double[] v = Reference.linear(tokens, n * hw, c, w.get("a.to_v.weight"), w.get("a.to_v.bias"), c);
    double[] o = new double[n * hw * c];
    for (int i = 0; i < n; i++) {
      for (int hd = 0; hd < heads; hd++) {
        for (int a = 0; a < hw; a++) {
          double[] s = new double[hw];
          double max = Double.NEGATIVE_INFINITY;
          for (int b = 0; b < hw; b++) {
            double acc = 0;
            for (int j = 0; j < d; j++) {
              acc += q[(i * hw + a) * c + hd * d + j] * k[(i * hw + b) * c + hd * d + j];
            }
            s[b] = acc / Math.sqrt(d);
            max = Math.max(max, s[b]);
          }
          double z = 0;
          for (int b = 0; b < hw; b++) {
            s[b] = Math.exp(s[b] - max);
            z += s[b];
          }
          for (int j = 0; j < d; j++) {
            double acc = 0;
            for (int b = 0; b < hw; b++) {
              acc += s[b] / z * v[(i * hw + b) * c + hd * d + j];
            }
            o[(i * hw + a) * c + hd * d + j] = acc;
          }
        }
      }
    }
    double[] proj = Reference.linear(o, n * hw, c, w.get("a.to_out.0.weight"), w.get("a.to_out.0.bias"), c);
    double[] y = new double[x.length];
    for (int i = 0; i < n; i++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < hw; p++) {
          int at = (i * c + ch) * hw + p;
          y[at] = (proj[(i * hw + p) * c + ch] + x[at]) / rescale;
        }
      }
    }
    return y;
  }

  @Test
  void attentionSingleHeadMultiHeadNoNormAndRescale() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 2, c = 8, h = 3;
      // {head_dim (0 = null: one head as wide as the channels), groups (0 = no norm), rescale}
      int[][] cases = {{0, 2, 1}, {4, 2, 2}, {2, 0, 1}};
      for (int[] cs : cases) {
        Map<String, Parameter> names = new LinkedHashMap<>();
        Attention a = new Attention(names, "a", c, cs[0], cs[1], 1e-5, cs[2]);
        a.initialize(m, DataType.FLOAT32, new Shape(1, c, h, h));
        assertEquals(cs[0] == 0 ? 1 : c / cs[0], a.heads());
        assertEquals(cs[1] > 0, names.containsKey("a.group_norm.weight"));
        Map<String, double[]> w = Reference.fill(names, 21 + cs[0], 0.5);
        double[] x = Reference.randn(n * c * h * h, 22);
        double[] got = Reference.values(a.apply(new ParameterStore(m, false), Reference.array(m, x, n, c, h, h)));
        double[] want = attention(w, x, n, c, h * h, a.heads(), cs[1], cs[2]);
        double e = Reference.maxRel(got, want);
        assertTrue(e < 1e-5, java.util.Arrays.toString(cs) + ": " + e);
      }
      // One head of width 8 differs from two heads of width 4 on the same weights.
      Map<String, Parameter> n1 = new LinkedHashMap<>();
      Map<String, Parameter> n2 = new LinkedHashMap<>();
      Attention one = new Attention(n1, "a", c, 0, 2, 1e-5, 1);
      Attention two = new Attention(n2, "a", c, 4, 2, 1e-5, 1);
      one.initialize(m, DataType.FLOAT32, new Shape(1, c, h, h));
      two.initialize(m, DataType.FLOAT32, new Shape(1, c, h, h));
      Reference.fill(n1, 5, 0.5);
      Reference.fill(n2, 5, 0.5);
      double[] x = Reference.randn(n * c * h * h, 6);
      double[] y1 = Reference.values(one.apply(new ParameterStore(m, false), Reference.array(m, x, n, c, h, h)));
      double[] y2 = Reference.values(two.apply(new ParameterStore(m, false), Reference.array(m, x, n, c, h, h)));
      assertTrue(Reference.maxRel(y1, y2) > 1e-3);
    }
  }
}
