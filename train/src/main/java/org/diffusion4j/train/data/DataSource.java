package org.diffusion4j.train.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * One training data set: draws batches of samples, already scaled (see {@link #scaling()}), as
 * FLOAT32. Draws are a pure function of the generator passed in, so a run is reproducible from its
 * seeds. Finite data sets draw indices uniformly with replacement.
 */
public interface DataSource {

  /** A batch on the host: {@code x} row-major of shape {@code shape}, {@code labels} or null. */
  record HostBatch(float[] x, long[] shape, int[] labels) {}

  /** A batch as NDArrays: {@code x} FLOAT32 [n, …], {@code labels} INT64 [n] or null. */
  record Batch(NDArray x, NDArray labels) implements AutoCloseable {
    @Override
    public void close() {
      x.close();
      if (labels != null) {
        labels.close();
      }
    }
  }

  /**
   * The affine map from raw values to the stored ones, {@code stored = scale·raw + shift} (to write
   * into a run's config and to map samples back).
   */
  record Affine(double scale, double shift) {
    public static final Affine IDENTITY = new Affine(1, 0);

    /** Raw value of a stored one. */
    public double invert(double stored) {
      return (stored - shift) / scale;
    }
  }

  /** Shape of one sample, e.g. {@code [2]} or {@code [1, 28, 28]}. */
  long[] sampleShape();

  /** One line saying what this is (source, size, shape, scaling). */
  String describe();

  /** Whether samples carry class labels. */
  default boolean hasLabels() {
    return false;
  }

  /** Number of classes when labelled, else 0. */
  default int classes() {
    return 0;
  }

  /** Number of stored samples, or -1 for a generator. */
  default long size() {
    return -1;
  }

  /** The scaling applied to the raw values. */
  default Affine scaling() {
    return Affine.IDENTITY;
  }

  /** Draws {@code n} samples on the host. */
  HostBatch sample(int n, SplittableRandom rng);

  /**
   * Samples for evaluation: a finite set's first {@code min(n, size)} samples in storage order (no
   * augmentation), a generator's {@code n} draws from {@code new SplittableRandom(seed)}.
   */
  default HostBatch first(int n, long seed) {
    DataSource.checkCount(n);
    return sample(n, new SplittableRandom(seed));
  }

  /** Draws {@code n} samples as a FLOAT32 array [n, …] in {@code manager}. */
  default NDArray batch(NDManager manager, int n, SplittableRandom rng) {
    HostBatch b = sample(n, rng);
    return manager.create(b.x(), new Shape(b.shape()));
  }

  /** Draws {@code n} samples with their labels (null labels when the data set has none). */
  default Batch batchWithLabels(NDManager manager, int n, SplittableRandom rng) {
    HostBatch b = sample(n, rng);
    NDArray x = manager.create(b.x(), new Shape(b.shape()));
    NDArray y = null;
    if (b.labels() != null) {
      long[] l = new long[b.labels().length];
      for (int i = 0; i < l.length; i++) {
        l[i] = b.labels()[i];
      }
      y = manager.create(l);
    }
    return new Batch(x, y);
  }

  /** {@code [n, sampleShape…]}. */
  static long[] batchShape(int n, long[] sampleShape) {
    long[] s = new long[sampleShape.length + 1];
    s[0] = n;
    System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
    return s;
  }

  /** Rejects a non-positive batch size. */
  static void checkCount(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("batch size " + n + " must be >= 1");
    }
  }
}
