package org.diffusion4j.train.transport;

import java.util.SplittableRandom;

/**
 * The 2-Wasserstein distance between two point clouds, {@code W₂² = min_γ Σ γ_ij ‖x_i − y_j‖²}: exact
 * (an assignment) for clouds of one size up to {@code exactLimit} points, otherwise the entropic
 * cost of Sinkhorn's plan between random subsamples of at most {@code exactLimit} points each, with ε
 * a hundredth of the mean squared distance (an estimate: subsampling biases W₂ upward, entropy
 * slightly upward too).
 */
public final class Wasserstein {
  private Wasserstein() {}

  /** Default largest exact problem (an assignment of 2000 points takes about a second). */
  public static final int EXACT_LIMIT = 2000;

  /** {@code W₂(a, b)} with the default limit. */
  public static double distance(Points a, Points b) {
    return Math.sqrt(squared(a, b, EXACT_LIMIT, 0));
  }

  /**
   * {@code W₂²(a, b)}.
   *
   * @param exactLimit largest cloud solved exactly (and the subsample size beyond)
   * @param seed subsampling seed
   */
  public static double squared(Points a, Points b, int exactLimit, long seed) {
    a.requireSameDimension(b);
    if (a.n() == 0 || b.n() == 0) {
      throw new IllegalArgumentException("W2 of an empty cloud (" + a.n() + " and " + b.n() + " points)");
    }
    if (exactLimit < 1) {
      throw new IllegalArgumentException("exact limit must be >= 1, got " + exactLimit);
    }
    if (a.n() == b.n() && a.n() <= exactLimit) {
      return Assignment.solve(a, b).cost() / a.n();
    }
    SplittableRandom rng = new SplittableRandom(seed);
    Points sa = subsample(a, exactLimit, rng);
    Points sb = subsample(b, exactLimit, rng);
    double[] c = sa.costMatrix(sb);
    double mean = 0;
    for (double v : c) {
      mean += v / c.length;
    }
    Sinkhorn.Plan p = Sinkhorn.solve(c, Sinkhorn.uniform(sa.n()), Sinkhorn.uniform(sb.n()),
        new Sinkhorn.Options(Math.max(1e-2 * mean, 1e-12), 500, 1e-4));
    return p.transportCost();
  }

  private static Points subsample(Points p, int limit, SplittableRandom rng) {
    if (p.n() <= limit) {
      return p;
    }
    int[] idx = new int[p.n()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    for (int i = 0; i < limit; i++) {
      int j = i + rng.nextInt(idx.length - i);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return p.rows(java.util.Arrays.copyOf(idx, limit));
  }
}
