package org.diffusion4j.train.eval;

import java.nio.ByteBuffer;

/**
 * Sums that give the kernel distance of Bińkowski et al. 2018 (KID, eq. 6: the unbiased MMD² with the
 * cubic polynomial kernel {@code k(x, y) = (xᵀy/d + 1)³}) of two whole sets, accumulated batch by batch and
 * merged across shards without keeping the features. Expanding the kernel,
 * {@code Σᵢⱼ k(xᵢ, yⱼ) = nm + 3/d·SₓᵀS_y + 3/d²·⟨Mₓ, M_y⟩ + 1/d³·⟨Tₓ, T_y⟩} with {@code S = Σx},
 * {@code M = Σxxᵀ} and {@code T = Σx⊗x⊗x}; the unbiased within-set sums drop the diagonal
 * {@code Σᵢ k(xᵢ, xᵢ)}, which is accumulated too. M and T are stored as their distinct (sorted-index) entries.
 *
 * <p>This is the full-set estimator (every pair of points), whose expectation equals that of the subset
 * average {@link Kid#of}; it costs O(d³/6) per point and memory, e.g. 360 k doubles for d = 128.
 */
public final class KernelStatistics {
  private final int d;
  private long n;
  private final double[] s1;
  private final double[] s2;
  private final double[] s3;
  private double diag;

  /** Empty sums for d-dimensional features. */
  public KernelStatistics(int d) {
    if (d < 1) {
      throw new IllegalArgumentException("feature dimension must be >= 1, got " + d);
    }
    long third = (long) d * (d + 1) * (d + 2) / 6;
    if (third > 50_000_000L) {
      throw new IllegalArgumentException("kernel statistics of " + d + "-dimensional features would hold " + third
          + " third moments; at most 50 000 000 (d <= 668)");
    }
    this.d = d;
    this.s1 = new double[d];
    this.s2 = new double[d * (d + 1) / 2];
    this.s3 = new double[(int) third];
  }

  /** Feature dimension. */
  public int dim() {
    return d;
  }

  /** Points added. */
  public long count() {
    return n;
  }

  /** Adds features row-major {@code k·d}. */
  public KernelStatistics add(double[] features) {
    Points.check(features, d, 1, "feature");
    int k = features.length / d;
    for (int i = 0; i < k; i++) {
      int o = i * d;
      double dot = 0;
      int i2 = 0;
      int i3 = 0;
      for (int a = 0; a < d; a++) {
        double xa = features[o + a];
        s1[a] += xa;
        dot += xa * xa;
        for (int b = a; b < d; b++) {
          double xab = xa * features[o + b];
          s2[i2++] += xab;
          for (int c = b; c < d; c++) {
            s3[i3++] += xab * features[o + c];
          }
        }
      }
      double t = dot / d + 1;
      diag += t * t * t;
    }
    n += k;
    return this;
  }

  /** Adds the sums of {@code other} (same dimension): the step of a tree reduction over shards. */
  public KernelStatistics merge(KernelStatistics other) {
    if (other.d != d) {
      throw new IllegalArgumentException("cannot merge kernel statistics of dimension " + other.d + " into " + d);
    }
    add(s1, other.s1);
    add(s2, other.s2);
    add(s3, other.s3);
    diag += other.diag;
    n += other.n;
    return this;
  }

  private static void add(double[] a, double[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
  }

  /** {@code Σᵢⱼ k(xᵢ, yⱼ)} over every pair of a point here and a point of {@code other}. */
  double cross(KernelStatistics other) {
    double lin = 0;
    for (int a = 0; a < d; a++) {
      lin += s1[a] * other.s1[a];
    }
    double quad = 0;
    double cub = 0;
    int i2 = 0;
    int i3 = 0;
    for (int a = 0; a < d; a++) {
      for (int b = a; b < d; b++) {
        quad += (a == b ? 1 : 2) * s2[i2] * other.s2[i2];
        i2++;
        for (int c = b; c < d; c++) {
          int mult = a == b ? (b == c ? 1 : 3) : b == c ? 3 : 6;
          cub += mult * s3[i3] * other.s3[i3];
          i3++;
        }
      }
    }
    return (double) n * other.n + 3.0 / d * lin + 3.0 / ((double) d * d) * quad + cub / ((double) d * d * d);
  }

  /**
   * The unbiased MMD² between the points here and those of {@code other} with the KID kernel (multiply by 10³
   * for the usual report).
   */
  public double kid(KernelStatistics other) {
    if (other.d != d) {
      throw new IllegalArgumentException("KID of " + d + "- and " + other.d + "-dimensional features");
    }
    if (n < 2 || other.n < 2) {
      throw new IllegalArgumentException("KID needs at least 2 points in each set, have " + n + " and " + other.n);
    }
    double xx = (cross(this) - diag) / ((double) n * (n - 1));
    double yy = (other.cross(other) - other.diag) / ((double) other.n * (other.n - 1));
    double xy = cross(other) / ((double) n * other.n);
    return xx + yy - 2 * xy;
  }

  /** Serialised form (to ship between processes). */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(20 + 8 * (s1.length + s2.length + s3.length));
    b.putInt(d).putLong(n).putDouble(diag);
    for (double[] part : new double[][] {s1, s2, s3}) {
      for (double v : part) {
        b.putDouble(v);
      }
    }
    return b.array();
  }

  /** Reads {@link #toBytes}. */
  public static KernelStatistics fromBytes(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int d = b.getInt();
    KernelStatistics k = new KernelStatistics(d);
    if (bytes.length != 20 + 8L * (k.s1.length + k.s2.length + k.s3.length)) {
      throw new IllegalArgumentException("not a kernel-statistics record (" + bytes.length + " bytes)");
    }
    k.n = b.getLong();
    k.diag = b.getDouble();
    for (double[] part : new double[][] {k.s1, k.s2, k.s3}) {
      for (int i = 0; i < part.length; i++) {
        part[i] = b.getDouble();
      }
    }
    return k;
  }
}
