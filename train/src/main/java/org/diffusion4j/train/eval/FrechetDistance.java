package org.diffusion4j.train.eval;

/**
 * The Fréchet (2-Wasserstein) distance between the Gaussians fitted to two feature sets (Fréchet 1957;
 * Dowson &amp; Landau 1982; the form of Heusel et al. 2017's FID, here in whatever feature space is given):
 * {@code FD = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½})}. The trace of the matrix square root
 * is taken from the eigenvalues of the symmetric {@code Σ₁^{½} Σ₂ Σ₁^{½}}, negative round-off clipped to 0.
 */
public final class FrechetDistance {
  private FrechetDistance() {}

  /** FD between two sets of streamed statistics. */
  public static double of(FeatureStatistics a, FeatureStatistics b) {
    if (a.dim() != b.dim()) {
      throw new IllegalArgumentException("feature dimensions differ: " + a.dim() + " vs " + b.dim());
    }
    return of(a.mean(), a.covariance(), b.mean(), b.covariance());
  }

  /** FD between N(m1, c1) and N(m2, c2), covariances row-major d×d. */
  public static double of(double[] m1, double[] c1, double[] m2, double[] c2) {
    int d = m1.length;
    if (m2.length != d || c1.length != d * d || c2.length != d * d) {
      throw new IllegalArgumentException("means of dimension " + d + " need " + d + "×" + d + " covariances, got "
          + m2.length + ", " + c1.length + ", " + c2.length + " values");
    }
    double mean = 0;
    for (int j = 0; j < d; j++) {
      double u = m1[j] - m2[j];
      mean += u * u;
    }
    double[] s1 = new SymmetricEigen(c1, d).sqrt(d);
    // M = S1 C2 S1 (symmetric).
    double[] t = multiply(s1, c2, d);
    double[] m = multiply(t, s1, d);
    for (int i = 0; i < d; i++) {
      for (int j = i + 1; j < d; j++) {
        double avg = 0.5 * (m[i * d + j] + m[j * d + i]);
        m[i * d + j] = avg;
        m[j * d + i] = avg;
      }
    }
    double trSqrt = 0;
    for (double l : new SymmetricEigen(m, d).values) {
      trSqrt += Math.sqrt(Math.max(l, 0));
    }
    double tr = 0;
    for (int i = 0; i < d; i++) {
      tr += c1[i * d + i] + c2[i * d + i];
    }
    return mean + tr - 2 * trSqrt;
  }

  private static double[] multiply(double[] a, double[] b, int d) {
    double[] c = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int k = 0; k < d; k++) {
        double aik = a[i * d + k];
        if (aik == 0) {
          continue;
        }
        for (int j = 0; j < d; j++) {
          c[i * d + j] += aik * b[k * d + j];
        }
      }
    }
    return c;
  }
}
