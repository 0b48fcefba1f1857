package org.diffusion4j.sampling.ode;

/**
 * The φ-functions of exponential integrators, {@code φ_m(z) = (e^z − Σ_{j<m} z^j/j!)/z^m}
 * ({@code φ_0 = e^z}, {@code φ_1 = (e^z − 1)/z}), evaluated without the
 * cancellation of the closed form: a Taylor series {@code Σ_j z^j/(j+m)!} for |z| &lt; 1, the
 * recurrence {@code φ_{k+1} = (φ_k − 1/k!)/z} otherwise.
 */
final class Phi {
  private Phi() {}

  /** {@code φ_m(z)} for finite z and m ≥ 0. */
  static double phi(int m, double z) {
    if (Math.abs(z) < 1) {
      // Series: terms fall at least as fast as 1/(j+m)!.
      double fact = 1;
      for (int k = 2; k <= m; k++) {
        fact *= k;
      }
      double term = 1 / fact;
      double sum = term;
      for (int j = 1; j < 30 && Math.abs(term) > 1e-18 * Math.abs(sum); j++) {
        term *= z / (j + m);
        sum += term;
      }
      return sum;
    }
    double p = Math.exp(z);
    double invFact = 1;
    for (int k = 0; k < m; k++) {
      p = (p - invFact) / z;
      invFact /= k + 1;
    }
    return p;
  }
}
