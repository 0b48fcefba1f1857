package org.diffusion4j.process;

import java.util.Arrays;
import java.util.Locale;

/**
 * Discrete DDPM over N training timesteps (Ho et al. 2020), in Ho's notation):
 * {@code ᾱ_i = Π_{k≤i}(1 − β_k)}, {@code x_i = sqrt(ᾱ_i) x0 + sqrt(1 − ᾱ_i) ε}, i = 0..N−1 (diffusers'
 * zero-based timesteps). In the EDM form {@code σ_i = sqrt((1 − ᾱ_i)/ᾱ_i)}, {@code s = 1/sqrt(1 + σ²)}.
 *
 * <p>Between integer timesteps, log σ is interpolated linearly in t (k-diffusion's
 * {@code DiscreteSchedule}); {@link #sigmaInv} inverts that interpolation and clamps to the table's
 * range, as k-diffusion does. On a grid, σ = 0 stands at t = −1 (diffusers' "previous timestep" of
 * the last step).
 *
 * <p>The tables ᾱ_i and log σ_i are computed once, at construction: σ(t) and its inverse are on the
 * hot path of grids, quadratures and training draws.
 */
public final class DiscreteDdpm implements NoiseProcess {
  /** 1000 steps, linear betas 1e-4 → 0.02 (Ho et al. 2020). */
  /** The most training timesteps a table may have. */
  public static final int MAX_TRAIN_STEPS = 1_000_000;

  public static final DiscreteDdpm DEFAULT = of(1000, "linear", 1e-4, 0.02);

  private final double[] betas;
  private final String schedule;
  private final double[] alphasCumprod;
  private final double[] logSigmas;

  /**
   * @param betas β_i, i = 0..N−1, each in (0, 1)
   * @param schedule the beta schedule's name, for configs and messages
   */
  public DiscreteDdpm(double[] betas, String schedule) {
    if (betas.length < 2) {
      throw new IllegalArgumentException("train-steps must be >= 2, got " + betas.length);
    }
    for (double b : betas) {
      if (!(b > 0 && b < 1)) {
        throw new IllegalArgumentException("every beta must lie in (0, 1), got " + b);
      }
    }
    this.betas = betas.clone();
    this.schedule = schedule;
    this.alphasCumprod = new double[betas.length];
    this.logSigmas = new double[betas.length];
    double p = 1;
    for (int i = 0; i < betas.length; i++) {
      p *= 1 - betas[i];
      alphasCumprod[i] = p;
      logSigmas[i] = 0.5 * Math.log((1 - p) / p);
    }
  }

  /** β_i (a copy). */
  public double[] betas() {
    return betas.clone();
  }

  /** The beta schedule's name. */
  public String schedule() {
    return schedule;
  }

  /**
   * The diffusers beta schedules: {@code linear} ({@code linspace(βs, βe, N)}), {@code scaled_linear}
   * ({@code linspace(√βs, √βe, N)²}, Stable Diffusion) and {@code squaredcos_cap_v2} (Nichol &amp;
   * Dhariwal cosine, {@code β_i = min(1 − ā((i+1)/N)/ā(i/N), 0.999)}, ā(t) = cos²((t + 0.008)/1.008·π/2)).
   */
  public static DiscreteDdpm of(int trainSteps, String schedule, double betaStart, double betaEnd) {
    if (trainSteps < 2 || trainSteps > MAX_TRAIN_STEPS) {
      throw new IllegalArgumentException("train-steps must lie in [2, " + MAX_TRAIN_STEPS + "], got " + trainSteps);
    }
    String name = schedule.toLowerCase(Locale.ROOT);
    if (name.equals("linear") || name.equals("scaled_linear")) {
      if (!(betaStart > 0 && betaStart < 1)) {
        throw new IllegalArgumentException("beta-start must lie in (0, 1), got " + betaStart);
      }
      if (!(betaEnd > 0 && betaEnd < 1)) {
        throw new IllegalArgumentException("beta-end must lie in (0, 1), got " + betaEnd);
      }
      if (!(betaStart <= betaEnd)) {
        throw new IllegalArgumentException("beta-start (" + betaStart + ") must be <= beta-end (" + betaEnd
            + "): the noise must grow with the timestep (diffusers' default 0.0001 to 0.02)");
      }
    }
    double[] b = new double[trainSteps];
    switch (name) {
      case "linear":
        for (int i = 0; i < trainSteps; i++) {
          b[i] = betaStart + (betaEnd - betaStart) * i / (trainSteps - 1);
        }
        break;
      case "scaled_linear": {
        double a = Math.sqrt(betaStart);
        double e = Math.sqrt(betaEnd);
        for (int i = 0; i < trainSteps; i++) {
          double r = a + (e - a) * i / (trainSteps - 1);
          b[i] = r * r;
        }
        break;
      }
      case "squaredcos_cap_v2":
        for (int i = 0; i < trainSteps; i++) {
          double t1 = (double) i / trainSteps;
          double t2 = (double) (i + 1) / trainSteps;
          b[i] = Math.min(1 - cosAlphaBar(t2) / cosAlphaBar(t1), 0.999);
        }
        break;
      default:
        throw new IllegalArgumentException(
            "unknown betas '" + schedule + "'; accepted: linear, scaled_linear, squaredcos_cap_v2");
    }
    return new DiscreteDdpm(b, name);
  }

  private static double cosAlphaBar(double t) {
    double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  /** Number of training timesteps N. */
  public int trainSteps() {
    return betas.length;
  }

  /** ᾱ_i (Ho's notation: the cumulative product of 1 − β), a copy. */
  public double[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  /** σ_i = sqrt((1 − ᾱ_i)/ᾱ_i) at the integer timesteps. */
  public double[] sigmas() {
    double[] s = new double[alphasCumprod.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = Math.sqrt((1 - alphasCumprod[i]) / alphasCumprod[i]);
    }
    return s;
  }

  @Override public String id() { return "ddpm"; }
  @Override public double tMin() { return 0; }
  @Override public double tMax() { return betas.length - 1; }
  @Override public double tData() { return -1; }
  @Override public boolean isDiscrete() { return true; }

  @Override
  public double sigma(double t) {
    if (t < 0 || t > betas.length - 1) {
      throw new IllegalArgumentException(
          "timestep " + t + " is outside [0, " + (betas.length - 1) + "]");
    }
    double[] l = logSigmas;
    int lo = (int) Math.floor(t);
    if (lo >= l.length - 1) {
      return Math.exp(l[l.length - 1]);
    }
    double w = t - lo;
    return Math.exp((1 - w) * l[lo] + w * l[lo + 1]);
  }

  @Override
  public double dSigma(double t) {
    double[] l = logSigmas;
    int lo = Math.min((int) Math.floor(t), l.length - 2);
    return sigma(t) * (l[lo + 1] - l[lo]);
  }

  @Override
  public double s(double t) {
    double sg = sigma(t);
    return 1 / Math.sqrt(1 + sg * sg);
  }

  @Override
  public double ds(double t) {
    double sg = sigma(t);
    return -sg * dSigma(t) / Math.pow(1 + sg * sg, 1.5);
  }

  @Override
  public double sigmaInv(double sigma) {
    double[] l = logSigmas;
    double ls = Math.log(sigma);
    if (ls <= l[0]) {
      return 0;
    }
    if (ls >= l[l.length - 1]) {
      return l.length - 1;
    }
    int lo = Arrays.binarySearch(l, ls);
    if (lo >= 0) {
      return lo;
    }
    lo = -lo - 2;
    return lo + (ls - l[lo]) / (l[lo + 1] - l[lo]);
  }

  /**
   * σ at a fractional timestep with σ (not log σ) interpolated linearly between the table entries —
   * diffusers' Euler/Heun/LMS schedulers with {@code interpolation_type = "linear"}
   * ({@code np.interp(t, arange(N), σ)}); equal to {@link #sigma} at integer t.
   *
   * @param t in [0, N − 1]
   */
  public double sigmaLinear(double t) {
    if (!(t >= 0 && t <= betas.length - 1)) {
      throw new IllegalArgumentException("timestep " + t + " is outside [0, " + (betas.length - 1) + "]");
    }
    int lo = (int) Math.floor(t);
    if (lo >= betas.length - 1) {
      return Math.exp(logSigmas[betas.length - 1]);
    }
    double w = t - lo;
    double a = Math.exp(logSigmas[lo]);
    return w == 0 ? a : (1 - w) * a + w * Math.exp(logSigmas[lo + 1]);
  }

  /**
   * The inverse of {@link #sigmaLinear}: the fractional timestep whose linearly interpolated σ is
   * {@code sigma}, clamped to [0, N − 1].
   */
  public double timestepLinear(double sigma) {
    double[] l = logSigmas;
    int n = l.length;
    if (sigma <= Math.exp(l[0])) {
      return 0;
    }
    if (sigma >= Math.exp(l[n - 1])) {
      return n - 1;
    }
    int lo = 0;
    int hi = n - 1;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (Math.exp(l[mid]) <= sigma) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    double a = Math.exp(l[lo]);
    return lo + (sigma - a) / (Math.exp(l[lo + 1]) - a);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DiscreteDdpm d && Arrays.equals(betas, d.betas) && schedule.equals(d.schedule);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(betas) * 31 + schedule.hashCode();
  }

  @Override
  public String toString() {
    return "DiscreteDdpm[N=" + betas.length + ", betas=" + schedule + "]";
  }
}
