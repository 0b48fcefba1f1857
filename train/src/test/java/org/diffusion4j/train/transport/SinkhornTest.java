package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sinkhorn's plan: marginals, convergence to the exact plan as ε → 0, independence as ε → ∞, sampling. */
class SinkhornTest {

  private static Points cloud(int n, SplittableRandom rng, double shift) {
    double[] v = new double[n * 2];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextGaussian() + shift;
    }
    return new Points(v, n, 2);
  }

  @Test
  void planHasTheMarginals() {
    SplittableRandom rng = new SplittableRandom(4);
    Points x = cloud(40, rng, 0);
    Points y = cloud(30, rng, 1);
    double[] a = new double[40];
    double[] b = new double[30];
    for (int i = 0; i < a.length; i++) {
      a[i] = 0.5 + rng.nextDouble();
    }
    for (int j = 0; j < b.length; j++) {
      b[j] = 0.5 + rng.nextDouble();
    }
    Sinkhorn.Plan p = Sinkhorn.solve(x.costMatrix(y), a, b, new Sinkhorn.Options(0.1, 5000, 1e-10));
    assertTrue(p.marginalError() <= 1e-10, "column error " + p.marginalError());
    double sa = 0;
    double sb = 0;
    for (double v : a) {
      sa += v;
    }
    for (double v : b) {
      sb += v;
    }
    double[] g = p.dense();
    for (int i = 0; i < 40; i++) {
      double r = 0;
      for (int j = 0; j < 30; j++) {
        r += g[i * 30 + j];
      }
      assertEquals(a[i] / sa, r, 1e-12, "row " + i);
    }
    for (int j = 0; j < 30; j++) {
      double c = 0;
      for (int i = 0; i < 40; i++) {
        c += g[i * 30 + j];
      }
      assertEquals(b[j] / sb, c, 1e-9, "column " + j);
    }
  }

  @Test
  void tendsToTheExactPlanAsEpsilonVanishes() {
    SplittableRandom rng = new SplittableRandom(5);
    int n = 7;
    Points x = cloud(n, rng, 0);
    Points y = cloud(n, rng, 0.5);
    Assignment.Result exact = Assignment.solve(x, y);
    double otCost = exact.cost() / n;
    double previousL1 = Double.POSITIVE_INFINITY;
    double previousGap = Double.POSITIVE_INFINITY;
    for (double eps : new double[] {1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001}) {
      Sinkhorn.Plan p = Sinkhorn.solve(x, y, new Sinkhorn.Options(eps, 100_000, 1e-12));
      double[] g = p.dense();
      double l1 = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          l1 += Math.abs(g[i * n + j] - (exact.partner()[i] == j ? 1.0 / n : 0));
        }
      }
      double gap = Math.abs(p.transportCost() - otCost);
      assertTrue(p.transportCost() - otCost >= -1e-4, "an entropic plan cannot beat OT: gap " + gap);
      assertTrue((l1 < previousL1 || l1 < 1e-4) && (gap < previousGap || gap < 1e-4), "ε = " + eps + ": L1 " + l1 + ", gap " + gap);
      previousL1 = l1;
      previousGap = gap;
    }
    assertTrue(previousL1 < 1e-3, "at ε = 0.001 the plan is the permutation, L1 " + previousL1);
  }

  @Test
  void largeEpsilonIsTheIndependentCoupling() {
    SplittableRandom rng = new SplittableRandom(6);
    Points x = cloud(20, rng, 0);
    Points y = cloud(20, rng, 0);
    double[] g = Sinkhorn.solve(x, y, Sinkhorn.Options.of(1e6)).dense();
    for (double v : g) {
      assertEquals(1.0 / 400, v, 1e-7);
    }
  }

  @Test
  void sampledPartnersFollowThePlan() {
    SplittableRandom rng = new SplittableRandom(7);
    Points x = cloud(5, rng, 0);
    Points y = cloud(5, rng, 0);
    Sinkhorn.Plan p = Sinkhorn.solve(x, y, new Sinkhorn.Options(1.0, 5000, 1e-12));
    int draws = 200_000;
    double[] count = new double[25];
    SplittableRandom r = new SplittableRandom(8);
    for (int k = 0; k < draws / 5; k++) {
      int[] s = p.sampleRows(r);
      for (int i = 0; i < 5; i++) {
        count[i * 5 + s[i]]++;
      }
    }
    double[] g = p.dense();
    for (int c = 0; c < 25; c++) {
      // Row-conditional frequency vs γ_ij / a_i, binomial standard error ≈ sqrt(q(1−q)/40000) ≤ 0.0025.
      assertEquals(g[c] * 5, count[c] / (draws / 5.0), 0.01, "cell " + c);
    }
  }

  @Test
  void perClassCouplingStaysWithinClasses() {
    SplittableRandom rng = new SplittableRandom(9);
    Points x = cloud(64, rng, 0);
    Points y = cloud(64, rng, 0);
    int[] labels = new int[64];
    for (int i = 0; i < 64; i++) {
      labels[i] = rng.nextInt(4);
    }
    for (Coupling c : new Coupling[] {new Coupling.PerClass(new Coupling.ExactOt()),
        new Coupling.PerClass(new Coupling.EntropicOt(Sinkhorn.Options.of(0.05)))}) {
      int[] p = c.pair(x, y, labels, new SplittableRandom(1));
      for (int i = 0; i < 64; i++) {
        assertEquals(labels[i], labels[p[i]], c.id() + ": row " + i + " paired across classes");
      }
    }
    // Within each class the exact per-class pairing is optimal: it beats the class-respecting identity.
    int[] p = new Coupling.PerClass(new Coupling.ExactOt()).pair(x, y, labels, new SplittableRandom(1));
    double ot = 0;
    double id = 0;
    for (int i = 0; i < 64; i++) {
      ot += x.cost(i, y, p[i]);
      id += x.cost(i, y, i);
    }
    assertTrue(ot < id);
    assertThrows(IllegalArgumentException.class,
        () -> new Coupling.PerClass(new Coupling.ExactOt()).pair(x, y, null, new SplittableRandom(1)));
  }

  @Test
  void rejectsBadOptions() {
    assertThrows(IllegalArgumentException.class, () -> Sinkhorn.Options.of(0));
    assertThrows(IllegalArgumentException.class, () -> Sinkhorn.Options.of(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new Sinkhorn.Options(1, 0, 1e-6));
    assertThrows(IllegalArgumentException.class,
        () -> Sinkhorn.solve(new double[] {0, Double.NaN}, new double[] {1}, new double[] {1, 1}, Sinkhorn.Options.of(1)));
    assertThrows(IllegalArgumentException.class,
        () -> Sinkhorn.solve(new double[] {0, 1}, new double[] {1}, new double[] {1, 0}, Sinkhorn.Options.of(1)));
  }
}
