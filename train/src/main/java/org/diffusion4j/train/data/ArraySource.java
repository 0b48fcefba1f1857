package org.diffusion4j.train.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A finite data set held on the host, either as unsigned bytes mapped by an affine (images) or as
 * floats already scaled. Draws indices uniformly with replacement; optionally flips image samples
 * ([C, H, W]) horizontally with probability ½.
 */
final class ArraySource implements DataSource {
  private final String description;
  private final long[] sampleShape;
  private final int count;
  private final int dim;
  private final byte[] bytes;
  private final float[] floats;
  private final Affine scaling;
  private final int[] labels;
  private final int classes;
  private final boolean flip;

  private ArraySource(String description, long[] sampleShape, int count, byte[] bytes, float[] floats,
      Affine scaling, int[] labels, boolean flip) {
    if (count < 1) {
      throw new IllegalArgumentException(description + ": no samples");
    }
    if (flip && sampleShape.length != 3) {
      throw new IllegalArgumentException(description + ": horizontal flip needs image samples [C, H, W], not "
          + Arrays.toString(sampleShape));
    }
    this.sampleShape = sampleShape.clone();
    this.count = count;
    this.dim = (int) Arrays.stream(sampleShape).reduce(1, (a, b) -> a * b);
    this.bytes = bytes;
    this.floats = floats;
    this.scaling = scaling;
    this.labels = labels;
    this.classes = labels == null ? 0 : Arrays.stream(labels).max().orElse(-1) + 1;
    this.flip = flip;
    this.description = description + (flip ? ", random horizontal flip" : "");
  }

  /** Unsigned bytes, stored value = scaling(byte). */
  static ArraySource ofBytes(String description, long[] sampleShape, int count, byte[] bytes, Affine scaling,
      int[] labels, boolean flip) {
    return new ArraySource(description, sampleShape, count, bytes, null, scaling, labels, flip);
  }

  /** Floats already scaled by {@code scaling}. */
  static ArraySource ofFloats(String description, long[] sampleShape, int count, float[] floats, Affine scaling,
      int[] labels, boolean flip) {
    return new ArraySource(description, sampleShape, count, null, floats, scaling, labels, flip);
  }

  @Override
  public long[] sampleShape() {
    return sampleShape.clone();
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public boolean hasLabels() {
    return labels != null;
  }

  @Override
  public int classes() {
    return classes;
  }

  @Override
  public long size() {
    return count;
  }

  @Override
  public Affine scaling() {
    return scaling;
  }

  @Override
  public HostBatch first(int n, long seed) {
    DataSource.checkCount(n);
    int m = Math.min(n, count);
    float[] x = new float[m * dim];
    int[] y = labels == null ? null : Arrays.copyOf(labels, m);
    if (bytes != null) {
      float a = (float) scaling.scale();
      float b = (float) scaling.shift();
      for (int i = 0; i < m * dim; i++) {
        x[i] = a * (bytes[i] & 0xff) + b;
      }
    } else {
      System.arraycopy(floats, 0, x, 0, m * dim);
    }
    return new HostBatch(x, DataSource.batchShape(m, sampleShape), y);
  }

  @Override
  public HostBatch sample(int n, SplittableRandom rng) {
    DataSource.checkCount(n);
    float[] x = new float[n * dim];
    int[] y = labels == null ? null : new int[n];
    float a = (float) scaling.scale();
    float b = (float) scaling.shift();
    int w = sampleShape.length == 3 ? (int) sampleShape[2] : 1;
    for (int i = 0; i < n; i++) {
      int k = rng.nextInt(count);
      int src = k * dim;
      int dst = i * dim;
      if (bytes != null) {
        for (int j = 0; j < dim; j++) {
          x[dst + j] = a * (bytes[src + j] & 0xff) + b;
        }
      } else {
        System.arraycopy(floats, src, x, dst, dim);
      }
      if (y != null) {
        y[i] = labels[k];
      }
      // Horizontal flip: reverse every row.
      if (flip && rng.nextBoolean()) {
        for (int row = dst; row < dst + dim; row += w) {
          for (int l = row, r = row + w - 1; l < r; l++, r--) {
            float t = x[l];
            x[l] = x[r];
            x[r] = t;
          }
        }
      }
    }
    return new HostBatch(x, DataSource.batchShape(n, sampleShape), y);
  }
}
