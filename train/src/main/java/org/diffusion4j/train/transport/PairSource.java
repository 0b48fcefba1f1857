package org.diffusion4j.train.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Trainer;

/**
 * Where flow matching's (x0, x1[, labels]) pairs come from: a source distribution (N(0, I) or any data
 * source), a target data source, and the {@link Coupling} that pairs a minibatch of each. As
 * {@link Trainer.Batches} a pair batch travels as one array {@code [n, 2, …]} (x0 at index 0 of axis 1,
 * x1 at index 1), labels those of x1; {@link #split} takes it apart again.
 */
public interface PairSource {

  /** A minibatch of pairs: {@code x0}, {@code x1} FLOAT32 [n, …], labels INT64 [n] or null. */
  record Pairs(NDArray x0, NDArray x1, NDArray labels) {}

  /** Draws n pairs; all randomness from {@code rng}. */
  Pairs next(NDManager manager, int n, SplittableRandom rng);

  /** The standard normal source of a given sample shape. */
  static DataSource gaussian(long[] sampleShape) {
    long[] shape = sampleShape.clone();
    return new DataSource() {
      @Override public long[] sampleShape() { return shape.clone(); }
      @Override public String describe() { return "N(0, I) of shape " + java.util.Arrays.toString(shape); }
      @Override
      public HostBatch sample(int n, SplittableRandom rng) {
        DataSource.checkCount(n);
        long[] b = DataSource.batchShape(n, shape);
        long size = 1;
        for (long v : b) {
          size *= v;
        }
        float[] x = new float[Math.toIntExact(size)];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) rng.nextGaussian();
        }
        return new HostBatch(x, b, null);
      }
    };
  }

  /**
   * Independent minibatches of {@code source} and {@code target} paired by {@code coupling}; the
   * coupling sees the target's labels when {@code labels} is set (and the pairs carry them).
   */
  static PairSource coupled(DataSource source, DataSource target, Coupling coupling, boolean labels) {
    if (!java.util.Arrays.equals(source.sampleShape(), target.sampleShape())) {
      throw new IllegalArgumentException("source samples of shape " + java.util.Arrays.toString(source.sampleShape())
          + " cannot be transported to target samples of shape " + java.util.Arrays.toString(target.sampleShape()));
    }
    if (coupling instanceof Coupling.PerClass && !target.hasLabels()) {
      throw new IllegalArgumentException("a per-class coupling needs labelled target data; " + target.describe()
          + " has none");
    }
    return (m, n, rng) -> {
      DataSource.HostBatch t = target.sample(n, rng);
      DataSource.HostBatch s = source.sample(n, rng);
      int d = t.x().length / n;
      Points p0 = new Points(toDouble(s.x()), n, d);
      Points p1 = new Points(toDouble(t.x()), n, d);
      int[] partner = coupling.pair(p0, p1, t.labels(), rng);
      float[] x1 = new float[t.x().length];
      long[] y = labels && t.labels() != null ? new long[n] : null;
      for (int i = 0; i < n; i++) {
        System.arraycopy(t.x(), partner[i] * d, x1, i * d, d);
        if (y != null) {
          y[i] = t.labels()[partner[i]];
        }
      }
      Shape shape = new Shape(t.shape());
      return new Pairs(m.create(s.x(), shape), m.create(x1, shape), y == null ? null : m.create(y));
    };
  }

  /**
   * Stored pairs (a reflow round's (z0, z1)), drawn uniformly with replacement.
   *
   * @param z0 sources, row-major {@code [count, …]}
   * @param z1 their targets, same layout
   * @param sampleShape one sample's shape
   */
  static PairSource fixed(float[] z0, float[] z1, long[] sampleShape) {
    long d = 1;
    for (long v : sampleShape) {
      d *= v;
    }
    int dim = Math.toIntExact(d);
    if (z0.length != z1.length || z0.length % dim != 0 || z0.length == 0) {
      throw new IllegalArgumentException("stored pairs: " + z0.length + " and " + z1.length
          + " values are not pairs of samples of " + dim + " values");
    }
    int count = z0.length / dim;
    long[] shape = sampleShape.clone();
    return (m, n, rng) -> {
      float[] a = new float[n * dim];
      float[] b = new float[n * dim];
      for (int i = 0; i < n; i++) {
        int k = rng.nextInt(count);
        System.arraycopy(z0, k * dim, a, i * dim, dim);
        System.arraycopy(z1, k * dim, b, i * dim, dim);
      }
      Shape s = new Shape(DataSource.batchShape(n, shape));
      return new Pairs(m.create(a, s), m.create(b, s), null);
    };
  }

  /** This source as the trainer's batches (pairs stacked on axis 1). */
  default Trainer.Batches batches() {
    return (m, n, rng) -> {
      Pairs p = next(m, n, rng);
      NDArray x = p.x0().stack(p.x1(), 1);
      p.x0().close();
      p.x1().close();
      return new DataSource.Batch(x, p.labels());
    };
  }

  /** (x0, x1) of a batch made by {@link #batches()}. */
  static NDArray[] split(NDArray stacked) {
    if (stacked.getShape().dimension() < 3 || stacked.getShape().get(1) != 2) {
      throw new IllegalArgumentException("a pair batch is [n, 2, …], got " + stacked.getShape());
    }
    return new NDArray[] {stacked.get(":, 0"), stacked.get(":, 1")};
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }
}
