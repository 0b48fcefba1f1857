package org.diffusion4j.analytic;

/**
 * The Dormand–Prince 5(4) Butcher tableau as data (Dormand &amp; Prince 1980; the method of RK45 /
 * scipy's and Hipparchus' DormandPrince54).
 */
public final class DormandPrince {
  private DormandPrince() {}

  /** Nodes c_i. */
  public static final double[] C = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};

  /** Coupling coefficients a_ij. */
  public static final double[][] A = {
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
  };

  /** 5th-order weights (also the last row of A: FSAL). */
  public static final double[] B5 = {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0};

  /** Embedded 4th-order weights. */
  public static final double[] B4 = {
    5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40
  };
}
