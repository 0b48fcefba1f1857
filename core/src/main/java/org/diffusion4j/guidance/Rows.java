package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/** Small helpers for per-sample arithmetic on batches {@code [n, …]}. */
final class Rows {
  private Rows() {}

  /** {@code values} as an array {@code [n, 1, …, 1]} in x's manager and dtype, to broadcast over a sample. */
  static NDArray column(NDArray x, double[] values) {
    long[] b = new long[x.getShape().dimension()];
    Arrays.fill(b, 1);
    b[0] = values.length;
    return x.getManager().create(values, new Shape(b)).toType(x.getDataType(), false);
  }

  /** Values per sample of a batch. */
  static int perSample(NDArray x) {
    long n = x.getShape().get(0);
    return Math.toIntExact(n == 0 ? 0 : x.size() / n);
  }

  static double[] times(double[] a, double f) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] * f;
    }
    return r;
  }

  static double[] join(double[] a, double[] b) {
    double[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
