package org.diffusion4j.train.eval;

/**
 * Eigen-decomposition of a real symmetric matrix by cyclic Jacobi rotations (Golub &amp; Van Loan,
 * Matrix Computations, §8.5): {@code A = V diag(λ) Vᵀ}, accurate to round-off for the covariance
 * matrices of the Fréchet distance.
 */
final class SymmetricEigen {
  final double[] values;
  /** Eigenvectors as columns, row-major d×d. */
  final double[] vectors;

  SymmetricEigen(double[] a, int d) {
    double[] m = a.clone();
    double[] v = new double[d * d];
    for (int i = 0; i < d; i++) {
      v[i * d + i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      double diag = 0;
      for (int p = 0; p < d; p++) {
        diag += m[p * d + p] * m[p * d + p];
        for (int q = p + 1; q < d; q++) {
          off += m[p * d + q] * m[p * d + q];
        }
      }
      if (off <= 1e-30 * diag || off == 0) {
        break;
      }
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          double apq = m[p * d + q];
          if (apq == 0) {
            continue;
          }
          double theta = (m[q * d + q] - m[p * d + p]) / (2 * apq);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < d; k++) {
            double mkp = m[k * d + p];
            double mkq = m[k * d + q];
            m[k * d + p] = c * mkp - s * mkq;
            m[k * d + q] = s * mkp + c * mkq;
          }
          for (int k = 0; k < d; k++) {
            double mpk = m[p * d + k];
            double mqk = m[q * d + k];
            m[p * d + k] = c * mpk - s * mqk;
            m[q * d + k] = s * mpk + c * mqk;
          }
          for (int k = 0; k < d; k++) {
            double vkp = v[k * d + p];
            double vkq = v[k * d + q];
            v[k * d + p] = c * vkp - s * vkq;
            v[k * d + q] = s * vkp + c * vkq;
          }
        }
      }
    }
    values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = m[i * d + i];
    }
    vectors = v;
  }

  /** {@code V f(λ) Vᵀ} with f = √max(λ, 0): the PSD square root. */
  double[] sqrt(int d) {
    double[] out = new double[d * d];
    for (int k = 0; k < d; k++) {
      double s = Math.sqrt(Math.max(values[k], 0));
      if (s == 0) {
        continue;
      }
      for (int i = 0; i < d; i++) {
        double vik = vectors[i * d + k] * s;
        for (int j = 0; j < d; j++) {
          out[i * d + j] += vik * vectors[j * d + k];
        }
      }
    }
    return out;
  }
}
