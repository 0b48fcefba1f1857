package org.diffusion4j.cli;

import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.schedule.Grid;

/** The exact PF-ODE reference of a mixture for sampler output, on a bounded number of samples. */
final class ExactCheck {
  /** Samples checked against the exact reference by default (the check must cost less than the run). */
  static final int DEFAULT_SAMPLES = 2000;

  private ExactCheck() {}

  /**
   * The exact PF-ODE solution of the first {@code count} initial states {@code x0} (process
   * coordinates at grid point 0, d values each) at the grid's last point, in x̂ = x/s.
   */
  static double[] reference(GaussianMixture gm, Grid grid, double[] x0, int count) {
    int d = gm.dim();
    int m = Math.min(count, x0.length / d) * d;
    double s0 = grid.s(0);
    double[] scaled = new double[m];
    for (int i = 0; i < m; i++) {
      scaled[i] = x0[i] / s0;
    }
    return ExactFlow.solve(gm, scaled, grid.sigma(0), grid.sigma(grid.size() - 1));
  }

  /** The first {@code count} samples of d values each. */
  static double[] first(double[] x, int d, int count) {
    return java.util.Arrays.copyOf(x, Math.min(count, x.length / d) * d);
  }
}
