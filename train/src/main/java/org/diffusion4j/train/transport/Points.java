package org.diffusion4j.train.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;

/**
 * n points of dimension d on the host, row-major in double (a batch {@code [n, …]} flattened per
 * sample), with the squared Euclidean cost {@code c(x, y) = ‖x − y‖²} of the transport problems.
 *
 * @param data row-major values, length n·d
 * @param n number of points
 * @param d dimension of one point
 */
public record Points(double[] data, int n, int d) {
  public Points {
    if (n < 0 || d < 1 || data.length != (long) n * d) {
      throw new IllegalArgumentException("points: " + data.length + " values cannot be " + n + " points of dimension " + d);
    }
    for (int i = 0; i < data.length; i++) {
      if (!Double.isFinite(data[i])) {
        throw new IllegalArgumentException("point " + i / d + " has a non-finite coordinate " + data[i]);
      }
    }
  }

  /** The rows of an array {@code [n, …]}. */
  public static Points of(NDArray x) {
    int n = Math.toIntExact(x.getShape().get(0));
    int d = n == 0 ? 1 : Math.toIntExact(x.size() / n);
    return new Points(x.toType(DataType.FLOAT64, false).toDoubleArray(), n, d);
  }

  /** {@code ‖x_i − y_j‖²}. */
  public double cost(int i, Points y, int j) {
    double s = 0;
    int a = i * d;
    int b = j * y.d;
    for (int k = 0; k < d; k++) {
      double u = data[a + k] - y.data[b + k];
      s += u * u;
    }
    return s;
  }

  /** The dense cost matrix {@code C_ij = ‖x_i − y_j‖²}, row-major n × m. */
  public double[] costMatrix(Points y) {
    requireSameDimension(y);
    double[] c = new double[n * y.n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < y.n; j++) {
        c[i * y.n + j] = cost(i, y, j);
      }
    }
    return c;
  }

  /** The points at {@code rows}, in that order. */
  public Points rows(int[] rows) {
    double[] out = new double[rows.length * d];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(data, rows[r] * d, out, r * d, d);
    }
    return new Points(out, rows.length, d);
  }

  /** Point i as a new array. */
  public double[] row(int i) {
    return Arrays.copyOfRange(data, i * d, (i + 1) * d);
  }

  void requireSameDimension(Points y) {
    if (y.d != d) {
      throw new IllegalArgumentException("point clouds of dimension " + d + " and " + y.d + " cannot be coupled");
    }
  }
}
