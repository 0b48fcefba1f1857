package org.diffusion4j.schedule;

import java.util.Arrays;
import org.diffusion4j.process.NoiseProcess;

/**
 * A sampling grid as a value: decreasing noise levels {@code σ_0 > σ_1 > … > σ_N} of a process, with
 * the matching times {@code t_i} and scales {@code s_i = s(t_i)}). Any sampler accepts
 * any grid; a grid has {@code N = size() − 1} intervals ("steps").
 *
 * <p>A grid usually ends in σ = 0 (data), stored with {@code t = process.tData()} and {@code s = 1};
 * the uniform-λ grid of DPM-Solver ends at σ_min instead.
 */
public final class Grid {
  private final NoiseProcess process;
  private final double[] t;
  private final double[] sigma;
  private final double[] s;

  private Grid(NoiseProcess process, double[] t, double[] sigma, double[] s) {
    this.process = process;
    this.t = t;
    this.sigma = sigma;
    this.s = s;
  }

  /** A grid from noise levels; times come from {@code process.sigmaInv}, σ = 0 maps to data. */
  public static Grid ofSigmas(NoiseProcess process, double... sigmas) {
    validate(sigmas);
    int n = sigmas.length;
    double[] t = new double[n];
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      if (sigmas[i] == 0) {
        t[i] = process.tData();
        s[i] = 1;
      } else {
        t[i] = process.sigmaInv(sigmas[i]);
        s[i] = process.s(t[i]);
      }
    }
    return new Grid(process, t, sigmas.clone(), s);
  }

  /** A grid from times of the process; a time equal to {@code process.tData()} stands for σ = 0. */
  public static Grid ofTimes(NoiseProcess process, double... times) {
    int n = times.length;
    double[] sg = new double[n];
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      if (times[i] == process.tData() && (process.isDiscrete() || process.sigma(times[i]) == 0)) {
        sg[i] = 0;
        s[i] = 1;
      } else {
        sg[i] = process.sigma(times[i]);
        s[i] = process.s(times[i]);
      }
    }
    validate(sg);
    return new Grid(process, times.clone(), sg, s);
  }

  private static void validate(double[] sigmas) {
    if (sigmas.length < 2) {
      throw new IllegalArgumentException("a grid needs at least 2 points, got " + sigmas.length);
    }
    for (int i = 0; i < sigmas.length; i++) {
      double v = sigmas[i];
      if (!(v >= 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException("grid sigma[" + i + "] must be finite and >= 0, got " + v);
      }
      if (i > 0 && !(v < sigmas[i - 1])) {
        throw new IllegalArgumentException(
            "grid sigmas must strictly decrease, got sigma[" + (i - 1) + "]=" + sigmas[i - 1]
                + " then sigma[" + i + "]=" + v);
      }
    }
  }

  /** The process the grid belongs to. */
  public NoiseProcess process() {
    return process;
  }

  /** Number of points (steps + 1). */
  public int size() {
    return sigma.length;
  }

  /** Number of intervals. */
  public int steps() {
    return sigma.length - 1;
  }

  /** σ_i (relative noise level). */
  public double sigma(int i) {
    return sigma[i];
  }

  /** t_i. */
  public double t(int i) {
    return t[i];
  }

  /** s_i = α_i. */
  public double s(int i) {
    return s[i];
  }

  /** Book α_i = s_i. */
  public double alpha(int i) {
    return s[i];
  }

  /** Book σ_i = s_i σ_i (absolute noise std). */
  public double sigmaAbs(int i) {
    return s[i] * sigma[i];
  }

  /** λ_i = −log σ_i (+∞ at σ = 0). */
  public double lambda(int i) {
    return -Math.log(sigma[i]);
  }

  /** Whether the last point is σ = 0. */
  public boolean endsAtZero() {
    return sigma[sigma.length - 1] == 0;
  }

  /**
   * The points {@code start … N} of this grid, unchanged (an SDEdit run that starts at an intermediate
   * noise level of a full grid).
   */
  public Grid tail(int start) {
    if (start < 0 || start > sigma.length - 2) {
      throw new IllegalArgumentException("a grid tail must keep at least 2 of the " + sigma.length
          + " points, got start " + start);
    }
    return new Grid(process, Arrays.copyOfRange(t, start, t.length), Arrays.copyOfRange(sigma, start, sigma.length),
        Arrays.copyOfRange(s, start, s.length));
  }

  /** The single interval {@code i → i+1} of this grid as a two-point grid (one sampler step). */
  public Grid interval(int i) {
    if (i < 0 || i > sigma.length - 2) {
      throw new IllegalArgumentException("grid interval " + i + " outside 0.." + (sigma.length - 2));
    }
    return new Grid(process, Arrays.copyOfRange(t, i, i + 2), Arrays.copyOfRange(sigma, i, i + 2),
        Arrays.copyOfRange(s, i, i + 2));
  }

  /** A copy of all σ_i. */
  public double[] sigmas() {
    return sigma.clone();
  }

  /** A copy of all t_i. */
  public double[] times() {
    return t.clone();
  }

  @Override
  public String toString() {
    return "Grid[" + process.id() + ", sigmas=" + Arrays.toString(sigma) + "]";
  }
}
