package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.junit.jupiter.api.Test;

/**
 * The PF-ODE map of a 2-D mixture is not the OT map (Lavenant &amp; Santambrogio 2022): the coupling it
 * induces costs clearly more than the exact OT between the same two point sets, while for a Gaussian
 * target (whose PF-ODE map is the affine OT map) the two agree up to the finite-sample gap.
 */
class TransportCostTest {
  static final int N = 800;

  private static double[] gaussianDraws(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] x = new double[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextGaussian();
    }
    return x;
  }

  private static double[] gap(GaussianMixture target) {
    double[] x0 = gaussianDraws(N, 31);
    FlowOde.Paths p = FlowOde.measure(GaussianFlow.fromStandardNormal(target), x0, N, 60, FlowOde.Method.RK4);
    double ot = Wasserstein.squared(new Points(x0, N, 2), new Points(p.x1(), N, 2), N, 0);
    return new double[] {p.transportCost(), ot, p.straightness()};
  }

  @Test
  void pfOdeMapOfAMixtureIsNotOptimal() {
    GaussianMixture mixture = new GaussianMixture(new double[] {0.5, 0.3, 0.2},
        new double[][] {{2.5, 0.5}, {-2, 2}, {-1, -2.5}}, new double[] {0.3, 0.5, 0.2});
    GaussianMixture gaussian = GaussianMixture.gaussian(new double[] {1, -0.5}, 0.6);
    double[] mix = gap(mixture);
    double[] gau = gap(gaussian);
    double mixGap = (mix[0] - mix[1]) / mix[1];
    double gauGap = (gau[0] - gau[1]) / gau[1];
    System.out.printf("PF-ODE vs OT cost: mixture %.4f vs %.4f (+%.1f%%), gaussian %.4f vs %.4f (+%.2f%%)%n",
        mix[0], mix[1], 100 * mixGap, gau[0], gau[1], 100 * gauGap);
    // An OT map (the gradient of a convex function) pairs any sample cyclically monotonically, so its
    // pairing is the optimal assignment of those points: a positive gap proves the map is not OT. The
    // gap is small here (1e-5 relative) but 1000× the RK4 error of the endpoints.
    assertTrue(gauGap >= -1e-12 && mixGap >= 0, "OT is the cheapest pairing of the same points");
    assertTrue(gauGap < 1e-12, "the Gaussian's PF-ODE map is its OT map: gap " + gauGap);
    assertTrue(mixGap > 1e-6, "mixture gap " + mixGap + " vs Gaussian " + gauGap);
    assertTrue(mix[2] > 0.1, "the mixture's flow is curved: S " + mix[2]);
  }

  @Test
  void w2OfKnownClouds() {
    double[] a = gaussianDraws(500, 3);
    double[] b = a.clone();
    for (int i = 0; i < b.length; i += 2) {
      b[i] += 3;
    }
    // A translation is optimal: W₂² = 9 exactly (cost ‖x − y‖² of the shift, nothing cheaper).
    assertEquals(9, Wasserstein.squared(new Points(a, 500, 2), new Points(b, 500, 2), 2000, 0), 1e-9);
    assertEquals(0, Wasserstein.distance(new Points(a, 500, 2), new Points(a, 500, 2)), 1e-12);
    // Unequal sizes go to Sinkhorn: b twice over (each point's mass splits over its two copies), W₂² = 9.
    double[] small = java.util.Arrays.copyOf(a, 200);
    double[] twice = new double[400];
    for (int i = 0; i < 200; i++) {
      twice[i] = small[i] + (i % 2 == 0 ? 3 : 0);
    }
    System.arraycopy(twice, 0, twice, 200, 200);
    double approx = Wasserstein.squared(new Points(small, 100, 2), new Points(twice, 200, 2), 2000, 1);
    assertEquals(9, approx, 0.1);
  }
}
