package org.diffusion4j.guidance;

import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;

/** Labelled 2-D mixtures for the guidance tests. */
final class Toys {
  private Toys() {}

  /** Four components, two classes (0: left pair, 1: right pair), unequal weights and stds. */
  static LabelledMixture fourTwo() {
    GaussianMixture g = new GaussianMixture(new double[] {1, 2, 1.5, 0.5},
        new double[][] {{-2, 1}, {-1.5, -1}, {2, 0.5}, {1, -1.5}}, new double[] {0.3, 0.5, 0.4, 0.2});
    return new LabelledMixture(g, new int[] {0, 0, 1, 1});
  }

  /** Points spread over the mixture's support and beyond. */
  static double[] points(int n, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    double[] x = new double[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = 3 * r.nextGaussian();
    }
    return x;
  }
}
