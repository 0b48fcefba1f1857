package org.diffusion4j.schedule;

/**
 * The grid options a user gives (CLI {@code --grid --sigma-min --sigma-max --rho --beta-min --beta-max
 * --t-min --steps-offset --drop-last}); {@code NaN} means "the default".
 *
 * @param grid grid identifier, one of {@link GridSpec#IDS}
 * @param sigmaMin σ_min or NaN (the process's σ(t_min))
 * @param sigmaMax σ_max or NaN (the process's σ(t_max))
 * @param rho ρ or NaN (karras 7, polyexponential 1)
 * @param betaMin β_min of the vp grid (0.1)
 * @param betaMax β_max of the vp grid (20)
 * @param tMin ε_s of the vp grid (1e-3)
 * @param stepsOffset added to leading timesteps (0)
 * @param dropLast diffusers' multistep N + 1 spacing (false)
 * @param fractional linspace: unrounded timesteps, σ linear in t (diffusers' Euler; false)
 */
public record GridOptions(String grid, double sigmaMin, double sigmaMax, double rho, double betaMin,
    double betaMax, double tMin, int stepsOffset, boolean dropLast, boolean fractional) {

  /** Options with integer timesteps. */
  public GridOptions(String grid, double sigmaMin, double sigmaMax, double rho, double betaMin, double betaMax,
      double tMin, int stepsOffset, boolean dropLast) {
    this(grid, sigmaMin, sigmaMax, rho, betaMin, betaMax, tMin, stepsOffset, dropLast, false);
  }

  /** The defaults for a grid identifier. */
  public static GridOptions of(String grid) {
    return new GridOptions(grid, Double.NaN, Double.NaN, Double.NaN, 0.1, 20, 1e-3, 0, false);
  }

  /** The spec these options describe. */
  public GridSpec spec() {
    return GridSpec.parse(grid, sigmaMin, sigmaMax, rho, betaMin, betaMax, tMin, stepsOffset, dropLast, fractional);
  }
}
