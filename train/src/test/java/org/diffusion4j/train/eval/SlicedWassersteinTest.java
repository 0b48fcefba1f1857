package org.diffusion4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SlicedWassersteinTest {
  static double[] normals(int n, int d, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[n * d];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextGaussian();
    }
    return x;
  }

  @Test
  void identicalSetsAreAtDistanceZero() {
    double[] a = normals(500, 3, 1);
    assertEquals(0, SlicedWasserstein.distance(a, a.clone(), 3, 64, 2), 0);
  }

  @Test
  void aShiftedCopyIsAtTheShiftOverSqrtD() {
    // Projections of a set and its copy shifted by v differ by u·v; E[(u·v)²] = |v|²/d for uniform u.
    int d = 2;
    double[] a = normals(400, d, 3);
    double[] b = a.clone();
    for (int i = 0; i < b.length; i += d) {
      b[i] += 3;
      b[i + 1] += 4;
    }
    assertEquals(5 / Math.sqrt(d), SlicedWasserstein.distance(a, b, d, 4000, 4), 0.05);
  }

  @Test
  void twoSamplesOfOneLawAreCloseAndAScaledLawIsFar() {
    double near = SlicedWasserstein.distance(normals(4000, 2, 5), normals(4000, 2, 6), 2, 256, 7);
    double[] wide = normals(4000, 2, 8);
    for (int i = 0; i < wide.length; i++) {
      wide[i] *= 2;
    }
    // W₂ between N(0,1) and N(0,4) in 1-D is |2 − 1| = 1 along every direction.
    double far = SlicedWasserstein.distance(normals(4000, 2, 5), wide, 2, 256, 7);
    assertEquals(1, far, 0.08);
    assertEquals(0, near, 0.06);
  }

  @Test
  void badShapesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> SlicedWasserstein.distance(new double[3], new double[4], 2, 8, 0));
  }
}
