package org.diffusion4j.likelihood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class LikelihoodTest {
  private static final GaussianMixture GM = Oracle.mixture();

  private static long[] rows(int n) {
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  static Denoiser differentiableMixture(GaussianMixture gm) {
    return MixtureTrace.differentiableDenoiser(gm);
  }

  @Test
  void mixtureTraceIsTheFiniteDifferenceTraceOfTheExactDenoiser() {
    MixtureTrace t = new MixtureTrace(GM);
    double[] x = {0.3, -0.2, 1.1, 0.9, -1.5, 0.4, 0.2, 1.4};
    for (double sigma : new double[] {0.01, 0.3, 2.0, 50}) {
      TraceModel.Evaluation e = t.evaluate(x, rows(4), sigma);
      double[] d = GM.denoise(x, sigma);
      for (int p = 0; p < 4; p++) {
        double tr = 0;
        for (int j = 0; j < 2; j++) {
          double h = 1e-6;
          double[] xp = x.clone();
          double[] xm = x.clone();
          xp[2 * p + j] += h;
          xm[2 * p + j] -= h;
          tr += (GM.denoise(xp, sigma)[2 * p + j] - GM.denoise(xm, sigma)[2 * p + j]) / (2 * h);
          assertEquals(d[2 * p + j], e.denoised()[2 * p + j], 1e-12);
        }
        assertEquals(tr, e.trace()[p], 1e-6, "σ=" + sigma + " point " + p);
      }
    }
  }

  @Test
  void pfOdeLikelihoodOfAGaussianAndAMixtureIsTheClosedForm() {
    int n = 16;
    for (GaussianMixture g : new GaussianMixture[] {Oracle.gaussian(1), Oracle.gaussian(3), GM}) {
      double[] x0 = g.sample(rows(n), 0);
      double sigma0 = 1e-3;
      PfOdeLikelihood lik = new PfOdeLikelihood(sigma0, 80, 1e-9, 1e-9, PriorDensity.exact(g));
      PfOdeLikelihood.Result r = lik.logLikelihood(new MixtureTrace(g), x0, rows(n));
      double[] exact = g.logDensity(x0, sigma0);
      double[] data = g.logDensity(x0, 0);
      for (int p = 0; p < n; p++) {
        assertEquals(exact[p], r.logLikelihood()[p], 1e-6, "dim " + g.dim() + " point " + p);
        assertEquals(data[p], r.logLikelihood()[p], 5e-5 * g.dim(), "p_σ0 ≈ p_0 at σ0 = 1e-3");
      }
      assertTrue(r.nfe() > 10 && r.nfe() < 2000, "nfe " + r.nfe());
      // The samplers' prior N(0, 80² I) instead of the exact p_80 changes log p by O(‖x̂(σ_max)‖·‖μ‖/σ_max²) = O(‖μ‖/σ_max).
      PfOdeLikelihood plain = new PfOdeLikelihood(sigma0, 80, 1e-9, 1e-9);
      double[] q = plain.logLikelihood(new MixtureTrace(g), x0, rows(n)).logLikelihood();
      for (int p = 0; p < n; p++) {
        assertEquals(exact[p], q[p], 0.1);
        assertTrue(Math.abs(exact[p] - q[p]) > 1e-7, "the prior must matter");
      }
    }
  }

  @Test
  void looserTolerancesGiveLargerButBoundedErrorsAndFewerEvaluations() {
    double[] x0 = GM.sample(rows(32), 0);
    double[] exact = GM.logDensity(x0, 1e-3);
    double[] err = new double[2];
    int[] nfe = new int[2];
    double[] tol = {1e-3, 1e-8};
    for (int i = 0; i < 2; i++) {
      PfOdeLikelihood.Result r = new PfOdeLikelihood(1e-3, 80, tol[i], tol[i], PriorDensity.exact(GM))
          .logLikelihood(new MixtureTrace(GM), x0, rows(32));
      for (int p = 0; p < 32; p++) {
        err[i] = Math.max(err[i], Math.abs(r.logLikelihood()[p] - exact[p]));
      }
      nfe[i] = r.nfe();
    }
    assertTrue(err[0] < 0.05 && err[1] < 1e-5 && err[1] < err[0], "errors " + err[0] + ", " + err[1]);
    assertTrue(nfe[0] < nfe[1], "nfe " + nfe[0] + " vs " + nfe[1]);
  }

  @Test
  void autogradTraceIsExactAndHutchinsonIsUnbiased() {
    try (NDManager m = NDManager.newBaseManager()) {
      Denoiser net = differentiableMixture(GM);
      double[] x = {0.3, -0.2, 1.1, 0.9, -1.5, 0.4};
      double sigma = 0.4;
      TraceModel.Evaluation want = new MixtureTrace(GM).evaluate(x, rows(3), sigma);
      DenoiserTrace exact = new DenoiserTrace(net, new long[] {2}, Divergence.exact(), m, DataType.FLOAT64, 4);
      TraceModel.Evaluation got = exact.evaluate(x, rows(3), sigma);
      for (int p = 0; p < 3; p++) {
        assertEquals(want.trace()[p], got.trace()[p], 1e-10);
        assertEquals(want.denoised()[2 * p], got.denoised()[2 * p], 1e-10);
      }
      for (Divergence.Probe kind : Divergence.Probe.values()) {
        int k = 400;
        // One probe per evaluation, many points at the same x: their mean and spread give the standard error.
        double[] xs = new double[2 * k];
        for (int i = 0; i < k; i++) {
          xs[2 * i] = x[2];
          xs[2 * i + 1] = x[3];
        }
        DenoiserTrace h = new DenoiserTrace(net, new long[] {2}, new Divergence.Hutchinson(1, kind, 7), m,
            DataType.FLOAT64, 1000);
        Estimate e = Estimate.of(h.evaluate(xs, rows(k), sigma).trace());
        assertTrue(Math.abs(e.mean() - want.trace()[1]) < 4 * e.stderr() + 1e-12,
            kind + ": " + e + " vs exact " + want.trace()[1]);
        // K probes averaged shrink the spread by ≈ √K.
        DenoiserTrace h16 = new DenoiserTrace(net, new long[] {2}, new Divergence.Hutchinson(16, kind, 7), m,
            DataType.FLOAT64, 100_000);
        Estimate e16 = Estimate.of(h16.evaluate(xs, rows(k), sigma).trace());
        assertTrue(e16.stderr() < e.stderr() / 2.5, kind + " K=16 " + e16.stderr() + " vs K=1 " + e.stderr());
        assertTrue(Math.abs(e16.mean() - want.trace()[1]) < 4 * e16.stderr() + 1e-12);
      }
      // The same probes at every σ (deterministic ODE): evaluating twice gives identical traces.
      DenoiserTrace h = new DenoiserTrace(net, new long[] {2}, Divergence.hutchinson(2, 3), m, DataType.FLOAT64, 2);
      assertEquals(h.evaluate(x, rows(3), sigma).trace()[2], h.evaluate(x, rows(3), sigma).trace()[2], 0);
    }
  }

  @Test
  void pfOdeLikelihoodThroughAutogradMatchesTheAnalyticFastPath() {
    try (NDManager m = NDManager.newBaseManager()) {
      double[] x0 = GM.sample(rows(6), 0);
      PfOdeLikelihood lik = new PfOdeLikelihood(1e-2, 80, 1e-6, 1e-6, PriorDensity.exact(GM));
      double[] a = lik.logLikelihood(new MixtureTrace(GM), x0, rows(6)).logLikelihood();
      double[] b = lik.logLikelihood(new DenoiserTrace(differentiableMixture(GM), new long[] {2}, Divergence.exact(), m,
          DataType.FLOAT64, 64), x0, rows(6)).logLikelihood();
      double[] want = GM.logDensity(x0, 1e-2);
      for (int p = 0; p < 6; p++) {
        assertEquals(a[p], b[p], 1e-5);
        assertEquals(want[p], b[p], 1e-4);
      }
    }
  }

  @Test
  void aDenoiserWithoutGradientsIsRefusedClearly() {
    try (NDManager m = NDManager.newBaseManager()) {
      DenoiserTrace t = new DenoiserTrace(GM.denoiser(), new long[] {2}, Divergence.exact(), m, DataType.FLOAT64, 8);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> t.evaluate(new double[] {0.1, 0.2}, rows(1), 0.5));
      assertTrue(e.getMessage().contains("not differentiable"), e.getMessage());
    }
  }

  @Test
  void badInputsGiveClearErrors() {
    PfOdeLikelihood lik = new PfOdeLikelihood(1e-3, 80, 1e-5, 1e-5);
    MixtureTrace t = new MixtureTrace(GM);
    assertThrows(IllegalArgumentException.class, () -> lik.logLikelihood(t, new double[0], new long[0]));
    assertThrows(IllegalArgumentException.class, () -> lik.logLikelihood(t, new double[3], rows(1)));
    IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
        () -> lik.logLikelihood(t, new double[] {0, Double.NaN}, rows(1)));
    assertTrue(nan.getMessage().contains("not finite"));
    assertThrows(IllegalArgumentException.class, () -> new PfOdeLikelihood(0, 80, 1e-5, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> new PfOdeLikelihood(1, 0.5, 1e-5, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> new PfOdeLikelihood(1e-3, 80, Double.NaN, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> new Divergence.Hutchinson(0, Divergence.Probe.GAUSSIAN, 0));
    assertThrows(IllegalArgumentException.class, () -> Divergence.Probe.parse("uniform"));
    assertThrows(IllegalArgumentException.class, () -> Estimate.of(new double[0]));
    assertThrows(IllegalArgumentException.class, () -> Estimate.of(new double[] {1, Double.POSITIVE_INFINITY}));
  }

  @Test
  void bitsPerDimConversionAndDequantisation() {
    assertEquals(1.0, BitsPerDim.continuous(784 * Math.log(2), 784), 1e-12);
    assertEquals(8.0, BitsPerDim.eightBit(784 * Math.log(2), 784), 1e-12);
    // A uniform density on [−1, 1]^D has NLL D ln 2: 1 bit/dim continuous, 8 bits/dim = log₂ 256 as 8-bit data.
    assertEquals(8.0, BitsPerDim.eightBit(3 * Math.log(2), 3), 1e-12);
    double[] x = {-1, 1, 0.0 / 127.5 - 1 + 128 / 127.5};
    double[] y = BitsPerDim.dequantize(x, 3, rows(1), 5);
    assertTrue(y[0] >= -1 && y[0] < -1 + 1.0 / 128, "bin of level 0: " + y[0]);
    assertTrue(y[1] >= 1 - 1.0 / 128 && y[1] < 1, "bin of level 255: " + y[1]);
    assertTrue(y[2] >= 0 && y[2] < 1.0 / 128, "bin of level 128: " + y[2]);
    assertThrows(IllegalArgumentException.class, () -> BitsPerDim.dequantize(new double[] {0.3}, 1, rows(1), 0));
    assertThrows(IllegalArgumentException.class, () -> BitsPerDim.dequantize(new double[] {1.5}, 1, rows(1), 0));
    assertThrows(IllegalArgumentException.class, () -> BitsPerDim.continuous(1, 0));
  }

  @Test
  void normalTailsAndDiscretizedDecoder() {
    assertEquals(0.5, Normal.massBetween(0, Double.POSITIVE_INFINITY), 1e-7);
    assertEquals(0.682689492, Normal.massBetween(-1, 1), 1e-7);
    assertEquals(2.866515719e-7, Normal.massBetween(5, Double.POSITIVE_INFINITY), 1e-7 * 2.87e-7 * 10);
    // Mass over all 256 bins sums to one for any mean and std.
    double total = 0;
    for (int k = 0; k < 256; k++) {
      double[] x = {k / 127.5 - 1};
      total += Math.exp(-Decoder.DISCRETIZED_8BIT.negativeLogLikelihood(x, new double[] {0.3}, 0, 1, 0.05));
    }
    assertEquals(1, total, 1e-6);
  }
}
