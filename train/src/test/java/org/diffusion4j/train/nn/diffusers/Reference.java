package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The blocks' definitions written out in plain double loops on row-major {@code [n, c, h, w]} arrays (PyTorch's
 * conv2d, group_norm, linear, silu), and hand-made weights for the DJL blocks.
 */
final class Reference {
  private Reference() {}

  /** Fills every parameter with N(0, scale²) values from {@code seed}; returns them by name as doubles. */
  static Map<String, double[]> fill(Map<String, Parameter> names, long seed, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    Map<String, double[]> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : names.entrySet()) {
      NDArray a = e.getValue().getArray();
      int n = (int) a.getShape().size();
      float[] v = new float[n];
      double[] d = new double[n];
      for (int i = 0; i < n; i++) {
        v[i] = (float) (scale * gaussian(r));
        d[i] = v[i];
      }
      a.set(FloatBuffer.wrap(v));
      out.put(e.getKey(), d);
    }
    return out;
  }

  static double gaussian(SplittableRandom r) {
    double u = r.nextDouble();
    double v = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
  }

  static double[] randn(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) gaussian(r);
    }
    return x;
  }

  static NDArray array(NDManager m, double[] x, long... shape) {
    return m.create(x, new Shape(shape)).toType(DataType.FLOAT32, false);
  }

  static double[] values(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }

  /** conv2d with zero padding pt/pl (top/left) and pb/pr (bottom/right), stride s. */
  static double[] conv(double[] x, int n, int c, int h, int w, double[] wt, double[] b, int out, int k, int s,
      int pt, int pl, int pb, int pr, int[] outHw) {
    int oh = (h + pt + pb - k) / s + 1;
    int ow = (w + pl + pr - k) / s + 1;
    outHw[0] = oh;
    outHw[1] = ow;
    double[] y = new double[n * out * oh * ow];
    for (int i = 0; i < n; i++) {
      for (int o = 0; o < out; o++) {
        for (int yy = 0; yy < oh; yy++) {
          for (int xx = 0; xx < ow; xx++) {
            double acc = b[o];
            for (int ci = 0; ci < c; ci++) {
              for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                  int iy = yy * s + ky - pt;
                  int ix = xx * s + kx - pl;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                    acc += wt[((o * c + ci) * k + ky) * k + kx] * x[((i * c + ci) * h + iy) * w + ix];
                  }
                }
              }
            }
            y[((i * out + o) * oh + yy) * ow + xx] = acc;
          }
        }
      }
    }
    return y;
  }

  /** Same-size conv with padding k/2. */
  static double[] conv(double[] x, int n, int c, int h, int w, double[] wt, double[] b, int out, int k) {
    return conv(x, n, c, h, w, wt, b, out, k, 1, k / 2, k / 2, k / 2, k / 2, new int[2]);
  }

  static double[] groupNorm(double[] x, int n, int c, int hw, int groups, double[] gamma, double[] beta, double eps) {
    double[] y = new double[x.length];
    int per = c / groups;
    for (int i = 0; i < n; i++) {
      for (int g = 0; g < groups; g++) {
        double mean = 0;
        double sq = 0;
        int cnt = per * hw;
        for (int ch = g * per; ch < (g + 1) * per; ch++) {
          for (int p = 0; p < hw; p++) {
            mean += x[(i * c + ch) * hw + p];
          }
        }
        mean /= cnt;
        for (int ch = g * per; ch < (g + 1) * per; ch++) {
          for (int p = 0; p < hw; p++) {
            double d = x[(i * c + ch) * hw + p] - mean;
            sq += d * d;
          }
        }
        double inv = 1 / Math.sqrt(sq / cnt + eps);
        for (int ch = g * per; ch < (g + 1) * per; ch++) {
          for (int p = 0; p < hw; p++) {
            int at = (i * c + ch) * hw + p;
            y[at] = (x[at] - mean) * inv * gamma[ch] + beta[ch];
          }
        }
      }
    }
    return y;
  }

  /** y[r, o] = Σ_i x[r, i] W[o, i] + b[o]. */
  static double[] linear(double[] x, int rows, int in, double[] wt, double[] b, int out) {
    double[] y = new double[rows * out];
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < out; o++) {
        double acc = b[o];
        for (int i = 0; i < in; i++) {
          acc += x[r * in + i] * wt[o * in + i];
        }
        y[r * out + o] = acc;
      }
    }
    return y;
  }

  static double[] silu(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = x[i] / (1 + Math.exp(-x[i]));
    }
    return y;
  }

  static double maxRel(double[] a, double[] b) {
    return Fixture.relative(a, b);
  }
}
