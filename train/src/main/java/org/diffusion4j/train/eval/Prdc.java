package org.diffusion4j.train.eval;

/**
 * Precision, recall, density and coverage on k-nearest-neighbour manifolds (Kynkäänniemi et al. 2019;
 * Naeem et al. 2020, eqs. 1–4). With B(x, r) the ball around x whose radius is the distance to its k-th
 * neighbour within its own set:
 * precision = fraction of fakes inside some real ball; recall = fraction of reals inside some fake ball;
 * density = {@code (1/(kM)) Σ_j Σ_i 1[Y_j ∈ B(X_i)]}; coverage = fraction of reals whose ball holds a fake.
 *
 * @param precision in [0, 1]
 * @param recall in [0, 1]
 * @param density ≥ 0 (≈ 1 for identical distributions)
 * @param coverage in [0, 1]
 */
public record Prdc(double precision, double recall, double density, double coverage) {

  /**
   * @param real N ≥ k + 1 real features, row-major
   * @param fake M ≥ k + 1 generated features
   * @param k the neighbour defining the radii (e.g. 5)
   */
  public static Prdc of(double[] real, double[] fake, int d, int k) {
    int n = Points.check(real, d, 2, "real");
    int m = Points.check(fake, d, 2, "generated");
    if (k < 1 || k >= Math.min(n, m)) {
      throw new IllegalArgumentException("k must lie in [1, " + (Math.min(n, m) - 1) + "], got " + k);
    }
    double[] rr = Points.kthNeighbourSquared(real, n, d, k);
    double[] rf = Points.kthNeighbourSquared(fake, m, d, k);
    int precise = 0;
    long inside = 0;
    boolean[] covered = new boolean[n];
    for (int j = 0; j < m; j++) {
      boolean any = false;
      for (int i = 0; i < n; i++) {
        if (Points.dist2(fake, j, real, i, d) <= rr[i]) {
          any = true;
          inside++;
          covered[i] = true;
        }
      }
      precise += any ? 1 : 0;
    }
    int recalled = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        if (Points.dist2(real, i, fake, j, d) <= rf[j]) {
          recalled++;
          break;
        }
      }
    }
    int cov = 0;
    for (boolean c : covered) {
      cov += c ? 1 : 0;
    }
    return new Prdc(precise / (double) m, recalled / (double) n, inside / ((double) k * m), cov / (double) n);
  }
}
