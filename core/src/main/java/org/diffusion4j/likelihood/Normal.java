package org.diffusion4j.likelihood;

/** The standard normal distribution's probabilities, computed without cancellation in the tails. */
final class Normal {
  private Normal() {}

  /**
   * The complementary error function, Chebyshev-fitted (Press et al., Numerical Recipes, 2nd ed.
   * §6.2, {@code erfcc}); fractional error below 1.2e-7 everywhere.
   */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }

  /** {@code P(Z > z)}. */
  static double upperTail(double z) {
    if (z == Double.POSITIVE_INFINITY) {
      return 0;
    }
    if (z == Double.NEGATIVE_INFINITY) {
      return 1;
    }
    return 0.5 * erfc(z / Math.sqrt(2));
  }

  /** {@code P(lo < Z < hi)}, from the tail on the side where it is small. */
  static double massBetween(double lo, double hi) {
    if (!(hi > lo)) {
      return 0;
    }
    if (lo >= 0) {
      return upperTail(lo) - upperTail(hi);
    }
    if (hi <= 0) {
      return upperTail(-hi) - upperTail(-lo);
    }
    return 1 - upperTail(hi) - upperTail(-lo);
  }
}
