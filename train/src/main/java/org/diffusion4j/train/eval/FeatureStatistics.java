package org.diffusion4j.train.eval;

import java.nio.ByteBuffer;

/**
 * Running first and second moments of d-dimensional features, {@code n}, {@code Σx} and {@code Σxxᵀ} in
 * double, accumulated batch by batch in constant memory (O(d²) whatever the number of samples), as the
 * Fréchet distance needs them. Features are centred on the first batch's mean before summing, which
 * keeps the covariance accurate when the mean is large.
 */
public final class FeatureStatistics {
  private final int d;
  private long n;
  private double[] shift;
  private final double[] sum;
  private final double[] outer;

  /** Empty statistics of d-dimensional features. */
  public FeatureStatistics(int d) {
    if (d < 1) {
      throw new IllegalArgumentException("feature dimension must be >= 1, got " + d);
    }
    this.d = d;
    this.sum = new double[d];
    this.outer = new double[d * d];
  }

  /** Feature dimension. */
  public int dim() {
    return d;
  }

  /** Number of features added. */
  public long count() {
    return n;
  }

  /** Adds features row-major {@code k·d}. */
  public FeatureStatistics add(double[] features) {
    Points.check(features, d, 1, "feature");
    int k = features.length / d;
    if (shift == null) {
      shift = new double[d];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < d; j++) {
          shift[j] += features[i * d + j] / k;
        }
      }
    }
    double[] c = new double[d];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < d; j++) {
        c[j] = features[i * d + j] - shift[j];
        sum[j] += c[j];
      }
      for (int a = 0; a < d; a++) {
        double ca = c[a];
        if (ca == 0) {
          continue;
        }
        int row = a * d;
        for (int b = a; b < d; b++) {
          outer[row + b] += ca * c[b];
        }
      }
    }
    n += k;
    return this;
  }

  /**
   * Adds the features counted in {@code other} (of the same dimension), as if they had been added here: the
   * pooling step of a tree reduction over shards (Chan, Golub and LeVeque 1979, pairwise update of sums of
   * squares). The other's sums are re-centred on this one's shift, so the order of merging changes the result
   * only by rounding.
   */
  public FeatureStatistics merge(FeatureStatistics other) {
    if (other.d != d) {
      throw new IllegalArgumentException("cannot merge feature statistics of dimension " + other.d + " into " + d);
    }
    if (other.n == 0) {
      return this;
    }
    if (n == 0) {
      shift = other.shift.clone();
      System.arraycopy(other.sum, 0, sum, 0, d);
      System.arraycopy(other.outer, 0, outer, 0, d * d);
      n = other.n;
      return this;
    }
    double[] delta = new double[d];
    for (int j = 0; j < d; j++) {
      delta[j] = other.shift[j] - shift[j];
    }
    double nb = other.n;
    for (int a = 0; a < d; a++) {
      int row = a * d;
      for (int b = a; b < d; b++) {
        outer[row + b] += other.outer[row + b] + delta[a] * other.sum[b] + other.sum[a] * delta[b]
            + nb * delta[a] * delta[b];
      }
    }
    for (int j = 0; j < d; j++) {
      sum[j] += other.sum[j] + nb * delta[j];
    }
    n += other.n;
    return this;
  }

  /** The mean. */
  public double[] mean() {
    requireTwo();
    double[] m = new double[d];
    for (int j = 0; j < d; j++) {
      m[j] = shift[j] + sum[j] / n;
    }
    return m;
  }

  /** The unbiased covariance {@code (Σcc ᵀ − n c̄c̄ᵀ)/(n − 1)}, row-major d×d. */
  public double[] covariance() {
    requireTwo();
    double[] c = new double[d * d];
    for (int a = 0; a < d; a++) {
      for (int b = a; b < d; b++) {
        double v = (outer[a * d + b] - sum[a] * sum[b] / n) / (n - 1);
        c[a * d + b] = v;
        c[b * d + a] = v;
      }
    }
    return c;
  }

  private void requireTwo() {
    if (n < 2) {
      throw new IllegalArgumentException("feature statistics need at least 2 samples, have " + n);
    }
  }

  /** Serialised form (for caching reference statistics). */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(12 + 8 * (2 * d + d * d));
    b.putInt(d).putLong(n);
    for (int j = 0; j < d; j++) {
      b.putDouble(shift == null ? 0 : shift[j]);
    }
    for (double v : sum) {
      b.putDouble(v);
    }
    for (double v : outer) {
      b.putDouble(v);
    }
    return b.array();
  }

  /** Reads {@link #toBytes}. */
  public static FeatureStatistics fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int d = b.getInt();
    if (d < 1 || bytes.length != 12 + 8L * (2L * d + (long) d * d)) {
      throw new IllegalArgumentException("not a feature-statistics file (" + bytes.length + " bytes)");
    }
    FeatureStatistics s = new FeatureStatistics(d);
    s.n = b.getLong();
    s.shift = new double[d];
    for (int j = 0; j < d; j++) {
      s.shift[j] = b.getDouble();
    }
    for (int j = 0; j < d; j++) {
      s.sum[j] = b.getDouble();
    }
    for (int j = 0; j < d * d; j++) {
      s.outer[j] = b.getDouble();
    }
    return s;
  }
}
