package org.diffusion4j.sampling.flowmap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.ExactFlowMap;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.FlowMap;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.denoiser.Scalings;
import org.diffusion4j.process.Edm;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.StepListener;
import org.junit.jupiter.api.Test;

/** The flow-map frame: identity at σ′ = σ, the exact oracle, the semigroup property, γ-sampling. */
class FlowMapTest {
  private static final GaussianMixture GAUSS = GaussianMixture.gaussian(new double[] {1.0, -0.5}, 0.5);
  private static final GaussianMixture MIX = GaussianMixture.demo2d();

  private static double[] points(int n, double sigma, long seed) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    double[] x = new double[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextGaussian() * Math.sqrt(1 + sigma * sigma);
    }
    return x;
  }

  private static double maxAbs(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  @Test
  void theMapIsTheIdentityAtEqualLevelsWhateverTheModel() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(points(4, 2, 1), new Shape(4, 2));
      Denoiser arbitrary = (xx, s, c) -> xx.mul(37).add(5);
      double[] s = {2, 0.5, 1e-3, 0};
      double[] out = FlowMap.apply(arbitrary, x, s, s.clone(), Conditioning.NONE).toDoubleArray();
      assertArrayEquals(x.toDoubleArray(), out, 0.0);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> FlowMap.apply(arbitrary, x, s, new double[] {3, 0, 0, 0}, Conditioning.NONE));
      assertTrue(e.getMessage().contains("3.0"), e.getMessage());
    }
  }

  @Test
  void theGaussianOracleIsTheClosedFormAndAgreesWithTheOdeSolver() {
    double[] x = points(16, 5, 2);
    double[] closed = ExactFlowMap.gaussian(new double[] {1.0, -0.5}, 0.5, x, 5, 0.3);
    double[] solved = ExactFlow.solve(new GaussianMixture(new double[] {0.5, 0.5},
        new double[][] {{1.0, -0.5}, {1.0, -0.5}}, new double[] {0.5, 0.5}), x, 5, 0.3);
    assertTrue(maxAbs(closed, solved) < 1e-8, "closed form vs Dormand-Prince: " + maxAbs(closed, solved));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xa = m.create(x, new Shape(16, 2));
      double[] s = Denoiser.constant(16, 5);
      double[] t = Denoiser.constant(16, 0.3);
      double[] viaModel = FlowMap.apply(ExactFlowMap.model(GAUSS), xa, s, t, Conditioning.NONE).toDoubleArray();
      assertTrue(maxAbs(closed, viaModel) < 1e-12, "G of the oracle model = the map");
    }
  }

  @Test
  void theMixtureOracleHasTheSemigroupProperty() {
    double[] x = points(8, 10, 3);
    double[] s = Denoiser.constant(8, 10);
    double[] u = Denoiser.constant(8, 1.5);
    double[] t = Denoiser.constant(8, 0.05);
    double[] direct = ExactFlowMap.map(MIX, x, s, t);
    double[] twoHops = ExactFlowMap.map(MIX, ExactFlowMap.map(MIX, x, s, u), u, t);
    assertTrue(maxAbs(direct, twoHops) < 1e-7, "Ψ(u→t)∘Ψ(s→u) = Ψ(s→t): " + maxAbs(direct, twoHops));
    assertArrayEquals(x, ExactFlowMap.map(MIX, x, s, s), 0.0, "Ψ(s→s) = I");
  }

  @Test
  void deterministicFlowMapSamplingWithTheOracleIsExactAtAnyStepCount() {
    try (NDManager m = NDManager.newBaseManager()) {
      double[] x = points(6, 80, 4);
      for (double[] sigmas : new double[][] {{80, 0}, {80, 2, 0}, {80, 10, 1, 0.1, 0}}) {
        Grid g = Grid.ofSigmas(Edm.DEFAULT, sigmas);
        NDArray out = new FlowMapSampler(0).run(ExactFlowMap.model(MIX), g, m.create(x, new Shape(6, 2)),
            NoiseSource.NONE, StepListener.NONE);
        double[] want = ExactFlow.solve(MIX, x, 80, 0);
        assertTrue(maxAbs(want, out.toDoubleArray()) < 1e-6, sigmas.length - 1 + " steps: "
            + maxAbs(want, out.toDoubleArray()));
      }
    }
  }

  @Test
  void consistencySamplingRenoisesAndKeepsTheGaussianDistribution() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 4000;
      double[] x = new double[2 * n];
      java.util.SplittableRandom r = new java.util.SplittableRandom(5);
      for (int i = 0; i < x.length; i++) {
        x[i] = 80 * r.nextGaussian();
      }
      NoiseSource noise = (mm, shape, dtype) -> {
        float[] z = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < z.length; i++) {
          z[i] = (float) r.nextGaussian();
        }
        return mm.create(z, shape).toType(dtype, false);
      };
      int[] calls = {0};
      Denoiser model = ExactFlowMap.model(GAUSS);
      Denoiser counted = (xx, s, c) -> {
        calls[0]++;
        assertArrayEquals(Denoiser.constant(n, 0), c.sigmaTarget(), 0.0, "γ = 1 always maps to σ′ = 0");
        return model.denoise(xx, s, c);
      };
      NDArray out = FlowMapSampler.consistency().run(counted, Grid.ofSigmas(Edm.DEFAULT, 80, 0.8, 0.2, 0),
          m.create(x, new Shape(n, 2)), noise, StepListener.NONE);
      assertEquals(3, calls[0], "one evaluation per step");
      double[] v = out.toDoubleArray();
      double[] mean = new double[2];
      double[] var = new double[2];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
          mean[j] += v[2 * i + j] / n;
        }
      }
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
          var[j] += Math.pow(v[2 * i + j] - mean[j], 2) / n;
        }
      }
      assertEquals(1.0, mean[0], 0.05);
      assertEquals(-0.5, mean[1], 0.05);
      assertEquals(0.25, var[0], 0.02);
      assertEquals(0.25, var[1], 0.02);
    }
  }

  @Test
  void theConsistencyParameterisationMeetsItsBoundaryExactly() {
    Preconditioning.Consistency p = new Preconditioning.Consistency(0.5, 0.002);
    Scalings s = p.scalings(0.002);
    assertEquals(1.0, s.cSkip(), 0.0);
    assertEquals(0.0, s.cOut(), 0.0);
    Scalings far = p.scalings(80);
    assertTrue(far.cSkip() < 1e-4 && Math.abs(far.cOut() - 0.5) < 1e-3, "large σ: F carries the output");
    assertEquals("cm", Preconditioning.parse("cm", Edm.DEFAULT).id());
    assertThrows(IllegalArgumentException.class, () -> new Preconditioning.Consistency(0.5, Double.NaN));
  }

  @Test
  void aBoundConditioningKeepsItsLabelsWhenASamplerAddsATargetLevel() {
    try (NDManager m = NDManager.newBaseManager()) {
      Conditioning[] seen = new Conditioning[1];
      Denoiser spy = (xx, s, c) -> {
        seen[0] = c;
        return xx.duplicate();
      };
      NDArray x = m.zeros(new Shape(2, 2), DataType.FLOAT64);
      FlowMap.apply(spy.conditioned(Conditioning.ofLabels(3, 4)), x, new double[] {1, 1}, new double[] {0, 0},
          Conditioning.NONE);
      assertArrayEquals(new long[] {3, 4}, seen[0].labels());
      assertArrayEquals(new double[] {0, 0}, seen[0].sigmaTarget(), 0.0);
    }
  }
}
