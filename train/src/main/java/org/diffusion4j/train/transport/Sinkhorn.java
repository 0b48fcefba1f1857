package org.diffusion4j.train.transport;

import java.util.SplittableRandom;

/**
 * Entropic optimal transport between two discrete measures, {@code min_γ ⟨C, γ⟩ + ε KL(γ ‖ a⊗b)} over
 * plans with marginals a and b, solved by Sinkhorn's matrix scaling in the log domain (Cuturi 2013;
 * Peyré &amp; Cuturi 2019, §4.4 for the log-domain updates). The optimal plan is
 * {@code γ_ij = a_i b_j exp((f_i + g_j − C_ij)/ε)}; the dual potentials are updated alternately,
 * <pre>
 *   g_j ← −ε log Σ_i a_i exp((f_i − C_ij)/ε),   f_i ← −ε log Σ_j b_j exp((g_j − C_ij)/ε),
 * </pre>
 * which after each f-update leaves the row marginals exact; the iteration stops when the column
 * marginals are within {@code tolerance} in L1. As ε → 0 the plan tends to an exact OT plan, as ε → ∞
 * to the independent coupling a⊗b.
 */
public final class Sinkhorn {
  private Sinkhorn() {}

  /**
   * The solver's knobs.
   *
   * @param epsilon entropic regularisation ε &gt; 0, in the units of the cost
   * @param maxIterations iteration cap (≥ 1)
   * @param tolerance L1 error of the column marginals at which to stop (≥ 0)
   */
  public record Options(double epsilon, int maxIterations, double tolerance) {
    public Options {
      if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
        throw new IllegalArgumentException("Sinkhorn ε must be a finite number > 0, got " + epsilon);
      }
      if (maxIterations < 1) {
        throw new IllegalArgumentException("Sinkhorn iterations must be >= 1, got " + maxIterations);
      }
      if (!(tolerance >= 0)) {
        throw new IllegalArgumentException("Sinkhorn tolerance must be >= 0, got " + tolerance);
      }
    }

    /** ε with 1000 iterations at tolerance 1e-6. */
    public static Options of(double epsilon) {
      return new Options(epsilon, 1000, 1e-6);
    }
  }

  /**
   * A solved problem: the plan is {@code a_i b_j exp((f_i + g_j − C_ij)/ε)}.
   *
   * @param n rows
   * @param m columns
   * @param cost the cost matrix, row-major n × m
   * @param logA log a
   * @param logB log b
   * @param f row potentials
   * @param g column potentials
   * @param epsilon ε
   * @param iterations iterations taken
   * @param marginalError L1 error of the column marginals at the end (rows are exact)
   */
  public record Plan(int n, int m, double[] cost, double[] logA, double[] logB, double[] f, double[] g,
      double epsilon, int iterations, double marginalError) {

    /** {@code γ_ij}. */
    public double get(int i, int j) {
      return Math.exp(logA[i] + logB[j] + (f[i] + g[j] - cost[i * m + j]) / epsilon);
    }

    /** The dense plan, row-major n × m. */
    public double[] dense() {
      double[] p = new double[n * m];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          p[i * m + j] = get(i, j);
        }
      }
      return p;
    }

    /** The transport cost {@code ⟨C, γ⟩} of the plan. */
    public double transportCost() {
      double s = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          s += get(i, j) * cost[i * m + j];
        }
      }
      return s;
    }

    /**
     * For each row i, a column drawn from the plan's conditional {@code γ_i· / a_i} (every source point
     * keeps its place and draws its partner).
     */
    public int[] sampleRows(SplittableRandom rng) {
      int[] out = new int[n];
      double[] w = new double[m];
      for (int i = 0; i < n; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < m; j++) {
          w[j] = logB[j] + (g[j] - cost[i * m + j]) / epsilon;
          max = Math.max(max, w[j]);
        }
        double z = 0;
        for (int j = 0; j < m; j++) {
          w[j] = Math.exp(w[j] - max);
          z += w[j];
        }
        double u = rng.nextDouble() * z;
        int j = 0;
        double c = w[0];
        while (u >= c && j < m - 1) {
          j++;
          c += w[j];
        }
        out[i] = j;
      }
      return out;
    }
  }

  /** Uniform marginals on two clouds with the squared Euclidean cost. */
  public static Plan solve(Points x, Points y, Options options) {
    x.requireSameDimension(y);
    return solve(x.costMatrix(y), uniform(x.n()), uniform(y.n()), options);
  }

  /**
   * Solves with cost {@code C} (row-major n × m, finite) and marginals a (length n), b (length m),
   * positive and each summing to 1 (renormalised here).
   */
  public static Plan solve(double[] cost, double[] a, double[] b, Options options) {
    int n = a.length;
    int m = b.length;
    if (n == 0 || m == 0 || cost.length != (long) n * m) {
      throw new IllegalArgumentException("Sinkhorn: " + cost.length + " costs do not match marginals of size "
          + n + " and " + m);
    }
    for (int i = 0; i < cost.length; i++) {
      if (!Double.isFinite(cost[i])) {
        throw new IllegalArgumentException("Sinkhorn: cost[" + i / m + "][" + i % m + "] = " + cost[i] + " is not finite");
      }
    }
    double[] logA = logWeights(a, "a");
    double[] logB = logWeights(b, "b");
    double eps = options.epsilon();
    double[] f = new double[n];
    double[] g = new double[m];
    double[] tmp = new double[Math.max(n, m)];
    double err = Double.POSITIVE_INFINITY;
    int it = 0;
    while (it < options.maxIterations()) {
      it++;
      for (int j = 0; j < m; j++) {
        for (int i = 0; i < n; i++) {
          tmp[i] = logA[i] + (f[i] - cost[i * m + j]) / eps;
        }
        g[j] = -eps * logSumExp(tmp, n);
      }
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          tmp[j] = logB[j] + (g[j] - cost[i * m + j]) / eps;
        }
        f[i] = -eps * logSumExp(tmp, m);
      }
      err = columnError(cost, logA, logB, f, g, eps, n, m);
      if (!Double.isFinite(err)) {
        throw new IllegalStateException("Sinkhorn diverged at iteration " + it + " (ε = " + eps + ")");
      }
      if (err <= options.tolerance()) {
        break;
      }
    }
    return new Plan(n, m, cost, logA, logB, f, g, eps, it, err);
  }

  /** {@code 1/n} each. */
  public static double[] uniform(int n) {
    double[] w = new double[n];
    java.util.Arrays.fill(w, 1.0 / n);
    return w;
  }

  private static double columnError(double[] cost, double[] logA, double[] logB, double[] f, double[] g, double eps,
      int n, int m) {
    double[] col = new double[m];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        col[j] += Math.exp(logA[i] + logB[j] + (f[i] + g[j] - cost[i * m + j]) / eps);
      }
    }
    double e = 0;
    for (int j = 0; j < m; j++) {
      e += Math.abs(col[j] - Math.exp(logB[j]));
    }
    return e;
  }

  private static double[] logWeights(double[] w, String name) {
    double s = 0;
    for (int i = 0; i < w.length; i++) {
      if (!(w[i] > 0) || Double.isInfinite(w[i])) {
        throw new IllegalArgumentException("Sinkhorn marginal " + name + "[" + i + "] must be finite and > 0, got " + w[i]);
      }
      s += w[i];
    }
    double[] l = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      l[i] = Math.log(w[i] / s);
    }
    return l;
  }

  static double logSumExp(double[] v, int len) {
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < len; i++) {
      max = Math.max(max, v[i]);
    }
    if (max == Double.NEGATIVE_INFINITY) {
      return max;
    }
    double s = 0;
    for (int i = 0; i < len; i++) {
      s += Math.exp(v[i] - max);
    }
    return max + Math.log(s);
  }
}
