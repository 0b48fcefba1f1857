package org.diffusion4j.likelihood;

import java.util.Locale;

/**
 * How {@link DenoiserTrace} computes {@code tr ∂D/∂x̂}: exactly (one input gradient per dimension) or
 * by Hutchinson's estimator {@code tr A = E_u[uᵀ A u]} with {@code E[u] = 0, E[uuᵀ] = I} (Hutchinson
 * 1989; Grathwohl et al. 2019, FFJORD), K probes averaged, each point keeping its probes along the
 * whole path so that the ODE stays deterministic.
 */
public sealed interface Divergence {

  /** The exact trace: d vector–Jacobian products. */
  record Exact() implements Divergence {}

  /**
   * Hutchinson's estimator.
   *
   * @param probes K ≥ 1 probes per point
   * @param kind Rademacher (±1) or Gaussian entries
   * @param seed seed of the probes; point i's probes depend only on (seed, i)
   */
  record Hutchinson(int probes, Probe kind, long seed) implements Divergence {
    /** Checks K. */
    public Hutchinson {
      if (probes < 1 || probes > 10_000) {
        throw new IllegalArgumentException("hutchinson probes must lie in [1, 10000], got " + probes);
      }
      if (kind == null) {
        throw new IllegalArgumentException("hutchinson probe kind must be rademacher or gaussian, got null");
      }
    }
  }

  /** Probe distribution. */
  enum Probe {
    RADEMACHER, GAUSSIAN;

    /** Parses {@code rademacher} or {@code gaussian}. */
    public static Probe parse(String s) {
      switch (s.toLowerCase(Locale.ROOT)) {
        case "rademacher":
          return RADEMACHER;
        case "gaussian":
          return GAUSSIAN;
        default:
          throw new IllegalArgumentException("probe kind must be rademacher or gaussian, got '" + s + "'");
      }
    }
  }

  /** The exact trace. */
  static Divergence exact() {
    return new Exact();
  }

  /** Hutchinson with K Rademacher probes. */
  static Divergence hutchinson(int probes, long seed) {
    return new Hutchinson(probes, Probe.RADEMACHER, seed);
  }
}
