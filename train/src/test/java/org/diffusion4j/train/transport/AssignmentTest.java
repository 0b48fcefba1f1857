package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exact OT by assignment: against every permutation, against the sorted 1-D matching, and its speed. */
class AssignmentTest {

  private static double best;

  private static void permute(double[] c, int n, int[] p, int k, double acc) {
    if (k == n) {
      best = Math.min(best, acc);
      return;
    }
    for (int i = k; i < n; i++) {
      int t = p[k];
      p[k] = p[i];
      p[i] = t;
      permute(c, n, p, k + 1, acc + c[k * n + p[k]]);
      p[i] = p[k];
      p[k] = t;
    }
  }

  private static double bruteForce(double[] c, int n) {
    best = Double.POSITIVE_INFINITY;
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    permute(c, n, p, 0, 0);
    return best;
  }

  private static Points gaussian(int n, int d, SplittableRandom rng, double shift) {
    double[] v = new double[n * d];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextGaussian() + shift;
    }
    return new Points(v, n, d);
  }

  @Test
  void matchesEveryPermutationOnSmallBatches() {
    SplittableRandom rng = new SplittableRandom(1);
    for (int n = 1; n <= 7; n++) {
      for (int trial = 0; trial < 20; trial++) {
        Points x = gaussian(n, 2, rng, 0);
        Points y = gaussian(n, 2, rng, 1);
        double[] c = x.costMatrix(y);
        Assignment.Result r = Assignment.solve(c, n);
        assertEquals(bruteForce(c, n), r.cost(), 1e-9, "n = " + n);
        assertEquals(r.cost(), r.dual(), 1e-9, "duality gap, n = " + n);
        int[] sorted = r.partner().clone();
        Arrays.sort(sorted);
        for (int i = 0; i < n; i++) {
          assertEquals(i, sorted[i], "not a permutation");
        }
      }
      // Non-metric costs too (integers with ties, negative entries).
      double[] c = new double[n * n];
      for (int i = 0; i < c.length; i++) {
        c[i] = rng.nextInt(7) - 3;
      }
      assertEquals(bruteForce(c, n), Assignment.solve(c, n).cost(), 1e-12);
    }
  }

  @Test
  void oneDimensionalOtIsTheSortedMatching() {
    SplittableRandom rng = new SplittableRandom(2);
    int n = 300;
    Points x = gaussian(n, 1, rng, 0);
    Points y = gaussian(n, 1, rng, 3);
    int[] p = Assignment.solve(x, y).partner();
    Integer[] ix = new Integer[n];
    Integer[] iy = new Integer[n];
    for (int i = 0; i < n; i++) {
      ix[i] = i;
      iy[i] = i;
    }
    Arrays.sort(ix, (a, b) -> Double.compare(x.data()[a], x.data()[b]));
    Arrays.sort(iy, (a, b) -> Double.compare(y.data()[a], y.data()[b]));
    for (int k = 0; k < n; k++) {
      assertEquals((int) iy[k], p[ix[k]], "rank " + k + " of x must meet rank " + k + " of y");
    }
  }

  @Test
  void batchOf512IsFast() {
    SplittableRandom rng = new SplittableRandom(3);
    Points x = gaussian(512, 2, rng, 0);
    Points y = gaussian(512, 2, rng, 2);
    Assignment.solve(x, y); // warm-up
    long t0 = System.nanoTime();
    int reps = 5;
    Assignment.Result r = null;
    for (int k = 0; k < reps; k++) {
      r = Assignment.solve(x, y);
    }
    double ms = (System.nanoTime() - t0) / 1e6 / reps;
    System.out.printf("exact OT 512×512 (2-D): %.1f ms%n", ms);
    assertEquals(r.cost(), r.dual(), 1e-6 * r.cost());
    // A loose bound (the build machine is shared); the README records the unloaded time.
    assertTrue(ms < 3000, "512-point assignment took " + ms + " ms");
    double direct = 0;
    for (int i = 0; i < 512; i++) {
      direct += x.cost(i, y, r.partner()[i]);
    }
    assertEquals(direct, r.cost(), 1e-9 * direct, "the reported cost is the uncentred one");
    assertEquals(Assignment.solve(x.costMatrix(y), 512).cost(), r.cost(), 1e-9 * direct, "centring keeps the optimum");
    // Identity is optimal between a cloud and itself.
    int[] self = Assignment.solve(x, x).partner();
    int[] id = new int[512];
    Arrays.setAll(id, i -> i);
    assertArrayEquals(id, self);
  }

  @Test
  void rejectsBadInput() {
    assertThrows(IllegalArgumentException.class, () -> Assignment.solve(new double[] {0, Double.NaN, 1, 2}, 2));
    assertThrows(IllegalArgumentException.class, () -> Assignment.solve(new double[] {0, 1, 2}, 2));
    assertThrows(IllegalArgumentException.class, () -> new Points(new double[] {0, Double.POSITIVE_INFINITY}, 1, 2));
    assertThrows(IllegalArgumentException.class,
        () -> Assignment.solve(new Points(new double[2], 1, 2), new Points(new double[4], 2, 2)));
    assertEquals(0, Assignment.solve(new double[0], 0).partner().length);
  }
}
