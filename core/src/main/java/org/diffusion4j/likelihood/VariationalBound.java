package org.diffusion4j.likelihood;

import java.util.SplittableRandom;
import org.diffusion4j.process.DiscreteDdpm;

/**
 * Variational upper bounds on {@code −log p(x0)} for the Gaussian reverse chain whose mean is the
 * posterior mean at the model's x0-estimate, in the scaled state {@code x̂ = x0 + σ ε} where the
 * signal-to-noise ratio is {@code SNR = 1/σ²}:
 * {@code −log p(x0) ≤ L_prior + L_recon + L_diffusion} (Ho et al. 2020, eq. 5; Kingma et al. 2021, eq. 11).
 *
 * <ul>
 *   <li>{@code L_prior = KL(N(x0, σ_max² I) ‖ N(0, σ_max² I)) = ‖x0‖²/(2σ_max²)}, the samplers' prior.</li>
 *   <li>{@code L_recon = −log p(x0 | x̂_0)} by a {@link Decoder} centred on D(x̂_0; σ_0).</li>
 *   <li>Discrete (levels σ_0 &lt; … &lt; σ_T): each step's KL between the forward posterior and the
 *       model's (same variance) is {@code ½ (SNR(σ_{i−1}) − SNR(σ_i)) ‖x0 − D(x̂_i; σ_i)‖²} (Kingma et al.
 *       2021, eq. 13); on the table of a DDPM with the posterior variance β̃_t this is exactly Ho et al.'s
 *       {@code L_{t−1}} (eq. 8 with the x0-parameterised mean).</li>
 *   <li>Continuous (T → ∞, Kingma et al. 2021, eq. 18): {@code L_∞ = −½ ∫ SNR'(σ) E‖x0 − D‖² dσ
 *       = ∫_{ln σ_0}^{ln σ_max} σ^{−2} E‖x0 − D(x̂; σ)‖² d ln σ}, estimated with ln σ uniform; in these
 *       coordinates it depends on the process only through σ_0 and σ_max.</li>
 * </ul>
 * One ε is drawn per term and point, from a generator seeded by (seed, point).
 */
public final class VariationalBound {
  private VariationalBound() {}

  /**
   * The bound's terms per point (nats).
   *
   * @param prior L_prior per point
   * @param reconstruction L_recon per point
   * @param diffusion L_diffusion per point (its Monte-Carlo estimate)
   */
  public record Terms(double[] prior, double[] reconstruction, double[] diffusion) {
    /** The bound per point. */
    public double[] total() {
      double[] t = new double[prior.length];
      for (int i = 0; i < t.length; i++) {
        t[i] = prior[i] + reconstruction[i] + diffusion[i];
      }
      return t;
    }
  }

  /**
   * The discrete bound over the levels {@code sigmas} (strictly increasing, all &gt; 0).
   *
   * @param decoderStd the decoder's standard deviation s
   */
  public static Terms discrete(HostDenoiser model, double[] x0, long[] rows, double[] sigmas, Decoder decoder,
      double decoderStd, long seed) {
    int d = check(model, x0, rows);
    for (int i = 0; i < sigmas.length; i++) {
      if (!(sigmas[i] > 0) || Double.isInfinite(sigmas[i]) || (i > 0 && !(sigmas[i] > sigmas[i - 1]))) {
        throw new IllegalArgumentException("bound sigmas must be finite, > 0 and strictly increasing; sigma[" + i + "] = "
            + sigmas[i]);
      }
    }
    if (sigmas.length < 1) {
      throw new IllegalArgumentException("a discrete bound needs at least one level");
    }
    int n = rows.length;
    SplittableRandom[] rng = generators(rows, seed);
    double[] diffusion = new double[n];
    double[] sig = new double[n];
    for (int i = 1; i < sigmas.length; i++) {
      double w = 0.5 * (1 / (sigmas[i - 1] * sigmas[i - 1]) - 1 / (sigmas[i] * sigmas[i]));
      java.util.Arrays.fill(sig, sigmas[i]);
      double[] err = squaredErrors(model, x0, d, sig, rng);
      for (int p = 0; p < n; p++) {
        diffusion[p] += w * err[p];
      }
    }
    return new Terms(prior(x0, d, sigmas[sigmas.length - 1]),
        reconstruction(model, x0, d, sigmas[0], decoder, decoderStd, rng), diffusion);
  }

  /**
   * The bound of a discrete-time DDPM (Ho et al. 2020, eq. 5) on its own table: T − 1 KL terms with the
   * posterior variance β̃_t, the decoder at t = 1 with Ho's {@code s = √β_1}, and the prior at t = T.
   */
  public static Terms ddpm(HostDenoiser model, DiscreteDdpm process, double[] x0, long[] rows, Decoder decoder, long seed) {
    return discrete(model, x0, rows, process.sigmas(), decoder, Math.sqrt(process.betas()[0]), seed);
  }

  /**
   * The continuous-time bound {@code L_∞} between σ_0 and σ_max, with {@code draws} levels per point.
   *
   * @param decoderStd the decoder's standard deviation at σ_0 (σ_0 itself is the natural choice)
   */
  public static Terms continuous(HostDenoiser model, double[] x0, long[] rows, double sigma0, double sigmaMax,
      int draws, Decoder decoder, double decoderStd, long seed) {
    int d = check(model, x0, rows);
    if (!(sigma0 > 0) || !(sigmaMax > sigma0) || Double.isInfinite(sigmaMax)) {
      throw new IllegalArgumentException("need 0 < sigma0 < sigmaMax < inf, got " + sigma0 + ", " + sigmaMax);
    }
    if (draws < 1) {
      throw new IllegalArgumentException("draws must be >= 1, got " + draws);
    }
    int n = rows.length;
    SplittableRandom[] rng = generators(rows, seed);
    double a = Math.log(sigma0);
    double span = Math.log(sigmaMax) - a;
    double[] diffusion = new double[n];
    double[] sig = new double[n];
    for (int k = 0; k < draws; k++) {
      for (int p = 0; p < n; p++) {
        // Stratified in ln σ: draw k of point p lies in the k-th of `draws` equal sub-intervals.
        sig[p] = Math.exp(a + span * (k + rng[p].nextDouble()) / draws);
      }
      double[] err = squaredErrors(model, x0, d, sig, rng);
      for (int p = 0; p < n; p++) {
        diffusion[p] += span / draws * err[p] / (sig[p] * sig[p]);
      }
    }
    return new Terms(prior(x0, d, sigmaMax), reconstruction(model, x0, d, sigma0, decoder, decoderStd, rng), diffusion);
  }

  private static int check(HostDenoiser model, double[] x0, long[] rows) {
    int d = model.dim();
    if (rows.length == 0) {
      throw new IllegalArgumentException("no points to evaluate (empty data)");
    }
    if (x0.length != rows.length * d) {
      throw new IllegalArgumentException("data has " + x0.length + " values, expected " + rows.length
          + " points of dimension " + d);
    }
    for (int i = 0; i < x0.length; i++) {
      if (!Double.isFinite(x0[i])) {
        throw new IllegalArgumentException("data value " + i + " is not finite: " + x0[i]);
      }
    }
    return d;
  }

  private static SplittableRandom[] generators(long[] rows, long seed) {
    SplittableRandom[] r = new SplittableRandom[rows.length];
    for (int p = 0; p < rows.length; p++) {
      r[p] = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + rows[p] * 0xBF58476D1CE4E5B9L + 1);
    }
    return r;
  }

  /** ‖x0 − D(x0 + σ ε; σ)‖² per point, one fresh ε each. */
  private static double[] squaredErrors(HostDenoiser model, double[] x0, int d, double[] sig, SplittableRandom[] rng) {
    int n = sig.length;
    double[] xt = new double[x0.length];
    for (int p = 0; p < n; p++) {
      for (int j = 0; j < d; j++) {
        xt[p * d + j] = x0[p * d + j] + sig[p] * rng[p].nextGaussian();
      }
    }
    double[] den = model.denoise(xt, sig);
    double[] out = new double[n];
    for (int p = 0; p < n; p++) {
      double s = 0;
      for (int j = 0; j < d; j++) {
        double e = x0[p * d + j] - den[p * d + j];
        s += e * e;
      }
      out[p] = s;
    }
    return out;
  }

  private static double[] prior(double[] x0, int d, double sigmaMax) {
    int n = x0.length / d;
    double[] out = new double[n];
    for (int p = 0; p < n; p++) {
      double s = 0;
      for (int j = 0; j < d; j++) {
        s += x0[p * d + j] * x0[p * d + j];
      }
      out[p] = s / (2 * sigmaMax * sigmaMax);
    }
    return out;
  }

  private static double[] reconstruction(HostDenoiser model, double[] x0, int d, double sigma0, Decoder decoder,
      double std, SplittableRandom[] rng) {
    if (!(std > 0) || Double.isInfinite(std)) {
      throw new IllegalArgumentException("decoder std must be finite and > 0, got " + std);
    }
    int n = x0.length / d;
    double[] sig = new double[n];
    java.util.Arrays.fill(sig, sigma0);
    double[] xt = new double[x0.length];
    for (int p = 0; p < n; p++) {
      for (int j = 0; j < d; j++) {
        xt[p * d + j] = x0[p * d + j] + sigma0 * rng[p].nextGaussian();
      }
    }
    double[] mean = model.denoise(xt, sig);
    double[] out = new double[n];
    for (int p = 0; p < n; p++) {
      out[p] = decoder.negativeLogLikelihood(x0, mean, p * d, d, std);
    }
    return out;
  }
}
