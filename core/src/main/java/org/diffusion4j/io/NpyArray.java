package org.diffusion4j.io;

import java.util.Arrays;

/**
 * An array read from or written to NumPy's {@code .npy} format, held as doubles on the host.
 *
 * @param shape the shape (C order)
 * @param data the values, row-major
 * @param dtype the NumPy dtype it was stored as, e.g. {@code <f4}, {@code <f8}, {@code |u1}
 */
public record NpyArray(long[] shape, double[] data, String dtype) {
  public NpyArray {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " holds " + n + " values but data has " + data.length);
    }
  }

  /** Number of elements. */
  public int size() {
    return data.length;
  }

  /** The shape as text, e.g. {@code [64, 2]}. */
  public String shapeText() {
    return Arrays.toString(shape);
  }
}
