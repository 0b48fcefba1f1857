package org.diffusion4j.train.transport;

/**
 * The linear assignment problem solved exactly: the permutation σ minimising {@code Σ_i C[i][σ(i)]}
 * for a square cost, which is the optimal transport plan between two uniform empirical measures of
 * the same size (Birkhoff–von Neumann: the Kantorovich LP has a permutation among its optima).
 *
 * <p>Jonker &amp; Volgenant's shortest-augmenting-path method (Jonker &amp; Volgenant 1987, LAPJV):
 * column reduction, reduction transfer and two passes of augmenting row reduction settle most rows
 * cheaply, then each remaining free row is matched along a shortest path in the reduced costs
 * {@code C_ij − u_i − v_j ≥ 0} (Dijkstra), O(n³) in the worst case. At the end the duals certify
 * optimality: {@code Σ u + Σ v} equals the cost of the assignment.
 */
public final class Assignment {
  private Assignment() {}

  /** A row of the cost matrix on demand, so large problems need no n² storage. */
  @FunctionalInterface
  public interface Costs {
    /** Writes {@code C[i][0..n)} into {@code row}. */
    void row(int i, double[] row);
  }

  /**
   * An optimal assignment.
   *
   * @param partner {@code partner[i] = σ(i)}, the column assigned to row i
   * @param cost {@code Σ_i C[i][σ(i)]}
   * @param dual {@code Σ u + Σ v} of the final potentials (equal to {@code cost} up to rounding)
   */
  public record Result(int[] partner, double cost, double dual) {}

  /** Solves a dense row-major n × n cost (every entry finite). */
  public static Result solve(double[] cost, int n) {
    if (cost.length != (long) n * n) {
      throw new IllegalArgumentException("assignment: " + cost.length + " costs are not a " + n + " × " + n + " matrix");
    }
    for (int i = 0; i < cost.length; i++) {
      if (!Double.isFinite(cost[i])) {
        throw new IllegalArgumentException("assignment: cost[" + i / n + "][" + i % n + "] = " + cost[i] + " is not finite");
      }
    }
    return solve(n, (i, row) -> System.arraycopy(cost, i * n, row, 0, n));
  }

  /**
   * Solves the squared-Euclidean assignment between two clouds of the same size. Each cloud is first
   * centred: {@code ‖x − a − (y − b)‖²} differs from {@code ‖x − y‖²} by terms of x alone and y alone,
   * so the optimal permutation is the same, and the search starts from much better duals when the
   * clouds are apart. The cost and duals reported are those of the centred problem plus that
   * constant shift, i.e. the cost reported is the uncentred one.
   */
  public static Result solve(Points x, Points y) {
    x.requireSameDimension(y);
    if (x.n() != y.n()) {
      throw new IllegalArgumentException("an assignment needs clouds of one size, got " + x.n() + " and " + y.n());
    }
    int n = x.n();
    Points cx = centred(x);
    Points cy = centred(y);
    Result r = (long) n * n <= 4_000_000L ? solve(cx.costMatrix(cy), n) : solve(n, (i, row) -> {
      for (int j = 0; j < n; j++) {
        row[j] = cx.cost(i, cy, j);
      }
    });
    double cost = 0;
    for (int i = 0; i < n; i++) {
      cost += x.cost(i, y, r.partner()[i]);
    }
    return new Result(r.partner(), cost, r.dual() + (cost - r.cost()));
  }

  private static Points centred(Points p) {
    int d = p.d();
    double[] mean = new double[d];
    for (int i = 0; i < p.n(); i++) {
      for (int k = 0; k < d; k++) {
        mean[k] += p.data()[i * d + k] / p.n();
      }
    }
    double[] out = p.data().clone();
    for (int i = 0; i < out.length; i++) {
      out[i] -= mean[i % d];
    }
    return new Points(out, p.n(), d);
  }

  /** Solves an n × n problem whose rows come from {@code costs} (finite entries). */
  public static Result solve(int n, Costs costs) {
    if (n < 0) {
      throw new IllegalArgumentException("assignment size must be >= 0, got " + n);
    }
    if (n == 0) {
      return new Result(new int[0], 0, 0);
    }
    double[] v = new double[n];
    int[] x = new int[n];
    int[] y = new int[n];
    int[] matches = new int[n];
    int[] free = new int[n];
    double[] row = new double[n];
    java.util.Arrays.fill(x, -1);
    java.util.Arrays.fill(y, -1);
    // Column reduction: v_j = min_i C_ij, each column's minimising row takes it if still free.
    java.util.Arrays.fill(v, Double.POSITIVE_INFINITY);
    int[] argmin = new int[n];
    for (int i = 0; i < n; i++) {
      costs.row(i, row);
      for (int j = 0; j < n; j++) {
        if (!Double.isFinite(row[j])) {
          throw new IllegalArgumentException("assignment: cost[" + i + "][" + j + "] = " + row[j] + " is not finite");
        }
        if (row[j] < v[j]) {
          v[j] = row[j];
          argmin[j] = i;
        }
      }
    }
    for (int j = n - 1; j >= 0; j--) {
      int i = argmin[j];
      if (++matches[i] == 1) {
        x[i] = j;
        y[j] = i;
      }
    }
    // Reduction transfer: a row matched once hands its slack to its column.
    int numFree = 0;
    for (int i = 0; i < n; i++) {
      if (matches[i] == 0) {
        free[numFree++] = i;
      } else if (matches[i] == 1) {
        costs.row(i, row);
        int j1 = x[i];
        double min = Double.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
          if (j != j1) {
            min = Math.min(min, row[j] - v[j]);
          }
        }
        if (Double.isFinite(min)) {
          v[j1] -= min;
        }
      }
    }
    // Augmenting row reduction, twice; bounded, since near-ties can make rows trade a column for long.
    long budget = 4L * n + 16;
    for (int pass = 0; pass < 2; pass++) {
      int k = 0;
      int previous = numFree;
      numFree = 0;
      while (k < previous) {
        if (--budget < 0) {
          while (k < previous) {
            free[numFree++] = free[k++];
          }
          break;
        }
        int i = free[k++];
        costs.row(i, row);
        double umin = row[0] - v[0];
        int j1 = 0;
        int j2 = -1;
        double usubmin = Double.POSITIVE_INFINITY;
        for (int j = 1; j < n; j++) {
          double h = row[j] - v[j];
          if (h < usubmin) {
            if (h >= umin) {
              usubmin = h;
              j2 = j;
            } else {
              usubmin = umin;
              umin = h;
              j2 = j1;
              j1 = j;
            }
          }
        }
        int i0 = y[j1];
        if (umin < usubmin) {
          v[j1] -= usubmin - umin;
        } else if (i0 >= 0 && j2 >= 0) {
          j1 = j2;
          i0 = y[j2];
        }
        if (i0 >= 0) {
          x[i0] = -1;
        }
        x[i] = j1;
        y[j1] = i;
        if (i0 >= 0) {
          if (umin < usubmin) {
            free[--k] = i0;
          } else {
            free[numFree++] = i0;
          }
        }
      }
    }
    // Augmentation: a shortest path in reduced costs from each free row to a free column (Dijkstra).
    double[] d = new double[n];
    int[] pred = new int[n];
    int[] cols = new int[n];
    for (int f = 0; f < numFree; f++) {
      int freeRow = free[f];
      costs.row(freeRow, row);
      for (int j = 0; j < n; j++) {
        d[j] = row[j] - v[j];
        pred[j] = freeRow;
        cols[j] = j;
      }
      int low = 0;
      int up = 0;
      int last = 0;
      int end = -1;
      double min = 0;
      while (end < 0) {
        if (up == low) {
          last = low - 1;
          min = d[cols[up++]];
          for (int k = up; k < n; k++) {
            int j = cols[k];
            double h = d[j];
            if (h <= min) {
              if (h < min) {
                up = low;
                min = h;
              }
              cols[k] = cols[up];
              cols[up++] = j;
            }
          }
          for (int k = low; k < up; k++) {
            if (y[cols[k]] < 0) {
              end = cols[k];
              break;
            }
          }
        }
        if (end < 0) {
          int j1 = cols[low++];
          int i = y[j1];
          costs.row(i, row);
          double h = row[j1] - v[j1] - min;
          for (int k = up; k < n; k++) {
            int j = cols[k];
            double v2 = row[j] - v[j] - h;
            if (v2 < d[j]) {
              pred[j] = i;
              if (v2 == min) {
                if (y[j] < 0) {
                  end = j;
                  break;
                }
                cols[k] = cols[up];
                cols[up++] = j;
              }
              d[j] = v2;
            }
          }
        }
      }
      for (int k = 0; k <= last; k++) {
        int j1 = cols[k];
        v[j1] += d[j1] - min;
      }
      int i;
      do {
        i = pred[end];
        y[end] = i;
        int j1 = end;
        end = x[i];
        x[i] = j1;
      } while (i != freeRow);
    }
    double total = 0;
    double dual = 0;
    for (int i = 0; i < n; i++) {
      costs.row(i, row);
      total += row[x[i]];
      dual += row[x[i]] - v[x[i]] + v[i];
    }
    return new Result(x, total, dual);
  }
}
