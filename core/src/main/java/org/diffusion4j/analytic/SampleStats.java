package org.diffusion4j.analytic;

/** Summary statistics of samples held row-major on the host (n·d values), and distances between two sets. */
public final class SampleStats {
  private SampleStats() {}

  /** Root-mean-square difference over all coordinates. */
  public static double rms(double[] a, double[] b) {
    sameLength(a, b);
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double e = a[i] - b[i];
      s += e * e;
    }
    return Math.sqrt(s / a.length);
  }

  /** Largest absolute difference. */
  public static double maxAbs(double[] a, double[] b) {
    sameLength(a, b);
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s = Math.max(s, Math.abs(a[i] - b[i]));
    }
    return s;
  }

  /** Per-dimension mean of n·d row-major points. */
  public static double[] mean(double[] x, int d) {
    double[] m = new double[d];
    int n = x.length / d;
    for (int i = 0; i < x.length; i++) {
      m[i % d] += x[i] / n;
    }
    return m;
  }

  /** Per-dimension sample standard deviation (divisor n − 1) of n·d row-major points. */
  public static double[] std(double[] x, int d) {
    double[] m = mean(x, d);
    double[] v = new double[d];
    int n = x.length / d;
    for (int i = 0; i < x.length; i++) {
      double e = x[i] - m[i % d];
      v[i % d] += e * e / Math.max(1, n - 1);
    }
    for (int j = 0; j < d; j++) {
      v[j] = Math.sqrt(v[j]);
    }
    return v;
  }

  /** Average of an array. */
  public static double average(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }

  private static void sameLength(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("sample sets differ in size: " + a.length + " and " + b.length + " values");
    }
  }
}
