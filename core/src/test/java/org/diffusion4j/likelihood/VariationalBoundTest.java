package org.diffusion4j.likelihood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class VariationalBoundTest {
  private static final GaussianMixture GM = Oracle.mixture();
  private static final int N = 2000;

  private static long[] rows(int n) {
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private static double[] geometric(double lo, double hi, int count) {
    double[] s = new double[count];
    for (int i = 0; i < count; i++) {
      s[i] = lo * Math.pow(hi / lo, i / (double) (count - 1));
    }
    return s;
  }

  @Test
  void boundIsAboveTheNllAndTightensAsStepsGrow() {
    double[] x0 = GM.sample(rows(N), 0);
    double nll = -Estimate.of(GM.logDensity(x0, 0)).mean();
    HostDenoiser m = HostDenoiser.of(GM);
    double sigma0 = 0.01;
    double[] gaps = new double[3];
    int[] steps = {10, 100, 1000};
    for (int i = 0; i < 3; i++) {
      VariationalBound.Terms t = VariationalBound.discrete(m, x0, rows(N), geometric(sigma0, 80, steps[i]),
          Decoder.GAUSSIAN, sigma0, 1);
      Estimate vlb = Estimate.of(t.total());
      gaps[i] = vlb.mean() - nll;
      assertTrue(gaps[i] > -3 * vlb.stderr(), "T=" + steps[i] + ": VLB " + vlb + " below NLL " + nll);
    }
    assertTrue(gaps[0] > gaps[1] && gaps[1] > gaps[2], "gaps " + java.util.Arrays.toString(gaps));
    Estimate cont = Estimate.of(VariationalBound.continuous(m, x0, rows(N), sigma0, 80, 8, Decoder.GAUSSIAN, sigma0, 1)
        .total());
    assertTrue(cont.mean() - nll > -3 * cont.stderr(), "continuous " + cont + " vs NLL " + nll);
    // The continuous bound is the T → ∞ limit of the discrete sums.
    assertEquals(gaps[2], cont.mean() - nll, 0.02 + 3 * cont.stderr());
    assertTrue(gaps[2] < 0.1, "T=1000 gap " + gaps[2]);
  }

  @Test
  void singleGaussianDiscreteBoundIsTheClosedFormKlSum() {
    // For N(μ, s²) the error ‖x0 − D‖² has mean d·s²σ²/(s²+σ²) (the posterior variance), so the
    // diffusion term's expectation is Σ ½(1/σ_{i−1}² − 1/σ_i²)·d s²σ_i²/(s²+σ_i²).
    GaussianMixture g = Oracle.gaussian(2);
    double s2 = 0.25;
    double[] sig = geometric(0.05, 20, 30);
    double want = 0;
    for (int i = 1; i < sig.length; i++) {
      want += 0.5 * (1 / (sig[i - 1] * sig[i - 1]) - 1 / (sig[i] * sig[i])) * 2 * s2 * sig[i] * sig[i] / (s2 + sig[i] * sig[i]);
    }
    double[] x0 = g.sample(rows(N), 0);
    Estimate got = Estimate.of(VariationalBound.discrete(HostDenoiser.of(g), x0, rows(N), sig, Decoder.GAUSSIAN, 0.05, 3)
        .diffusion());
    assertEquals(want, got.mean(), 4 * got.stderr());
  }

  @Test
  void ddpmBoundIsHosPosteriorKlSumAndBoundsTheDiscreteEntropy() {
    DiscreteDdpm ddpm = DiscreteDdpm.of(200, "linear", 1e-4, 0.1);
    double s2 = 0.09;
    GaussianMixture g = GaussianMixture.gaussian(new double[] {0.1, -0.2}, 0.3);
    // Ho et al. 2020 eq. 7 in x coordinates: KL(q(x_{t−1}|x_t,x0) ‖ p(x_{t−1}|x_t)) with the posterior variance
    // β̃_t and mean coefficient of x0 √ᾱ_{t−1} β_t/(1−ᾱ_t) is c²‖x0 − x̂0‖²/(2β̃_t); for N(μ, s²) the expected
    // squared error of the exact x̂0 at σ_t is d s²σ_t²/(s²+σ_t²).
    double[] beta = ddpm.betas();
    double[] abar = ddpm.alphasCumprod();
    double want = 0;
    for (int t = 1; t < beta.length; t++) {
      double c = Math.sqrt(abar[t - 1]) * beta[t] / (1 - abar[t]);
      double tilde = (1 - abar[t - 1]) / (1 - abar[t]) * beta[t];
      double sig2 = (1 - abar[t]) / abar[t];
      want += c * c / (2 * tilde) * 2 * s2 * sig2 / (s2 + sig2);
    }
    double[] x0 = g.sample(rows(N), 0);
    for (int i = 0; i < x0.length; i++) {
      x0[i] = Math.max(-1, Math.min(1, Math.round((x0[i] + 1) * 127.5) / 127.5 - 1));
    }
    VariationalBound.Terms t = VariationalBound.ddpm(HostDenoiser.of(g), ddpm, x0, rows(N), Decoder.DISCRETIZED_8BIT, 2);
    Estimate diff = Estimate.of(t.diffusion());
    // x0 is quantised (not exactly N(μ, s²)), a 1e-4-relative effect.
    assertEquals(want, diff.mean(), 4 * diff.stderr() + 1e-3 * want);
    // The bound is on −log P(k) of the 8-bit data: at least its entropy ≈ h(N(·, s²)) + ln 127.5 per dim.
    double bits = BitsPerDim.continuous(Estimate.of(t.total()).mean(), 2);
    double entropy = (0.5 * Math.log(2 * Math.PI * Math.E * s2) + Math.log(127.5)) / Math.log(2);
    assertTrue(bits > entropy - 0.02, "bits/dim " + bits + " vs entropy " + entropy);
    for (double v : t.prior()) {
      assertTrue(v >= 0 && v < 1e-3, "prior term " + v);
    }
    for (double v : t.reconstruction()) {
      assertTrue(v >= 0, "a discrete decoder's −log P is >= 0, got " + v);
    }
  }

  @Test
  void badInputs() {
    HostDenoiser m = HostDenoiser.of(GM);
    assertThrows(IllegalArgumentException.class,
        () -> VariationalBound.discrete(m, new double[0], new long[0], new double[] {0.1, 1}, Decoder.GAUSSIAN, 0.1, 0));
    assertThrows(IllegalArgumentException.class,
        () -> VariationalBound.discrete(m, new double[2], rows(1), new double[] {1, 0.1}, Decoder.GAUSSIAN, 0.1, 0));
    assertThrows(IllegalArgumentException.class,
        () -> VariationalBound.continuous(m, new double[2], rows(1), 0, 80, 4, Decoder.GAUSSIAN, 0.1, 0));
    assertThrows(IllegalArgumentException.class,
        () -> VariationalBound.continuous(m, new double[2], rows(1), 0.1, 80, 4, Decoder.GAUSSIAN, 0, 0));
    assertThrows(IllegalArgumentException.class,
        () -> VariationalBound.continuous(m, new double[] {0, Double.NaN}, rows(1), 0.1, 80, 4, Decoder.GAUSSIAN, 0.1, 0));
  }
}
