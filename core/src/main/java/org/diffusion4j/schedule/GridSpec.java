package org.diffusion4j.schedule;

import java.util.List;
import java.util.Locale;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.VpLinear;

/**
 * How to place N steps: the σ/time grids of the field), each a small value that builds a
 * {@link Grid} for a process. Defaults of σ_min, σ_max come from the process when left {@code NaN}.
 */
public sealed interface GridSpec {
  /** Every grid identifier {@link #parse} accepts. */
  List<String> IDS =
      List.of("karras", "exponential", "polyexponential", "vp", "lambda", "vp-uniform", "vp-quadratic", "leading",
          "trailing", "linspace");

  /** Builds the grid with {@code steps} intervals for {@code process}. */
  Grid build(NoiseProcess process, int steps);

  /** EDM's ρ = 7 grid over the process's own σ range (Karras et al. 2022, eq. 5). */
  static GridSpec karras() {
    return new Karras(Double.NaN, Double.NaN, 7);
  }

  /** EDM's ρ-grid over [σ_min, σ_max]. */
  static GridSpec karras(double sigmaMin, double sigmaMax, double rho) {
    return new Karras(sigmaMin, sigmaMax, rho);
  }

  /** Geometric σ over the process's own range. */
  static GridSpec exponential() {
    return new Exponential(Double.NaN, Double.NaN);
  }

  /** Uniform half log-SNR over the process's own range (DPM-Solver's "logSNR" steps, Lu et al. 2022). */
  static GridSpec uniformLambda() {
    return new UniformLambda(Double.NaN, Double.NaN);
  }

  /** Uniform time on Song et al.'s VP SDE (β 0.1 to 20) down to t = 1e-3. */
  static GridSpec vpTime() {
    return new VpTime(0.1, 20, 1e-3);
  }

  /**
   * EDM's ρ-grid (Karras et al. eq. 5): {@code σ_i = (σmax^{1/ρ} + i/(N−1)(σmin^{1/ρ} −
   * σmax^{1/ρ}))^ρ}, i &lt; N, then σ_N = 0 — k-diffusion's {@code get_sigmas_karras(N, …)}.
   */
  record Karras(double sigmaMin, double sigmaMax, double rho) implements GridSpec {
    public Karras {
      if (!(rho > 0) || Double.isInfinite(rho)) {
        throw new IllegalArgumentException("rho must be a finite number > 0, got " + rho);
      }
    }

    @Override
    public Grid build(NoiseProcess p, int steps) {
      double[] r = range(p, sigmaMin, sigmaMax, steps);
      double[] sg = new double[steps + 1];
      double a = Math.pow(r[1], 1 / rho);
      double b = Math.pow(r[0], 1 / rho);
      for (int i = 0; i < steps; i++) {
        double ramp = steps == 1 ? 0 : (double) i / (steps - 1);
        sg[i] = Math.pow(a + ramp * (b - a), rho);
      }
      if (steps > 1) {
        // a + (b − a) rounds to 0 when b ≪ a (σ_min = 1e-300): the last point is σ_min by definition.
        sg[steps - 1] = r[0];
      }
      requireDecreasing(sg, "karras", r, rho, "raise --sigma-min, lower --rho or use fewer --steps");
      return Grid.ofSigmas(p, sg);
    }
  }

  /** Geometric σ from σ_max to σ_min in N points, then 0 (k-diffusion {@code get_sigmas_exponential}). */
  record Exponential(double sigmaMin, double sigmaMax) implements GridSpec {
    @Override
    public Grid build(NoiseProcess p, int steps) {
      return new PolyExponential(sigmaMin, sigmaMax, 1).build(p, steps);
    }
  }

  /**
   * {@code σ = exp(ramp^ρ·(log σmax − log σmin) + log σmin)}, ramp from 1 to 0 in N points, then 0
   * (k-diffusion {@code get_sigmas_polyexponential}, default ρ = 1).
   */
  record PolyExponential(double sigmaMin, double sigmaMax, double rho) implements GridSpec {
    public PolyExponential {
      if (!(rho > 0) || Double.isInfinite(rho)) {
        throw new IllegalArgumentException("rho must be a finite number > 0, got " + rho);
      }
    }

    @Override
    public Grid build(NoiseProcess p, int steps) {
      double[] r = range(p, sigmaMin, sigmaMax, steps);
      double lmin = Math.log(r[0]);
      double lmax = Math.log(r[1]);
      double[] sg = new double[steps + 1];
      for (int i = 0; i < steps; i++) {
        double ramp = steps == 1 ? 1 : 1 - (double) i / (steps - 1);
        sg[i] = Math.exp(Math.pow(ramp, rho) * (lmax - lmin) + lmin);
      }
      requireDecreasing(sg, rho == 1 ? "exponential" : "polyexponential", r, rho,
          rho == 1 ? "raise --sigma-min or use fewer --steps" : "lower --rho (ramp^rho underflows), or use fewer --steps");
      return Grid.ofSigmas(p, sg);
    }
  }

  /**
   * Uniform time on the VP-linear process, {@code t_i = 1 + i/(N−1)(ε_s − 1)}, mapped to σ, then 0
   * (k-diffusion {@code get_sigmas_vp}); on another process the σ's are kept.
   */
  record VpTime(double betaMin, double betaMax, double tMin) implements GridSpec {
    @Override
    public Grid build(NoiseProcess p, int steps) {
      requireSteps(steps);
      VpLinear vp = new VpLinear(betaMin, betaMax, tMin);
      double[] sg = new double[steps + 1];
      for (int i = 0; i < steps; i++) {
        double ramp = steps == 1 ? 0 : (double) i / (steps - 1);
        sg[i] = vp.sigma(1 + ramp * (tMin - 1));
      }
      return Grid.ofSigmas(p, sg);
    }
  }

  /**
   * Uniform half log-SNR λ from λ(σ_max) to λ(σ_min) in N + 1 points, no final zero (DPM-Solver's
   * {@code logSNR} skip type).
   */
  record UniformLambda(double sigmaMin, double sigmaMax) implements GridSpec {
    @Override
    public Grid build(NoiseProcess p, int steps) {
      double[] r = range(p, sigmaMin, sigmaMax, steps);
      double l0 = -Math.log(r[1]);
      double l1 = -Math.log(r[0]);
      double[] sg = new double[steps + 1];
      for (int i = 0; i <= steps; i++) {
        sg[i] = Math.exp(-(l0 + (l1 - l0) * i / steps));
      }
      sg[0] = r[1];
      sg[steps] = r[0];
      requireDecreasing(sg, "lambda", r, Double.NaN, "raise --sigma-min or use fewer --steps");
      return Grid.ofSigmas(p, sg);
    }
  }

  /**
   * Times uniform in {@code t^{1/p}} from the process's t_max to its t_min in N + 1 points, no final zero:
   * p = 1 is DPM-Solver's {@code time_uniform} skip type, p = 2 its {@code time_quadratic} (DDIM's quadratic
   * steps, Song et al. 2021a), {@code t_i = (t_max^{1/p} + i/N (t_min^{1/p} − t_max^{1/p}))^p}. The run ends at
   * σ(t_min) (the reference's {@code t_end}, {@code denoise_to_zero=False}). On a discrete process the times
   * are fractional timesteps from T − 1 to 0 (the reference's discrete-time map t = (n + 1)/T is affine).
   *
   * @param power p ≥ 1
   */
  record TimePower(double power) implements GridSpec {
    public TimePower {
      if (!(power >= 1) || Double.isInfinite(power)) {
        throw new IllegalArgumentException("the time power must be a finite number >= 1, got " + power);
      }
    }

    @Override
    public Grid build(NoiseProcess p, int steps) {
      requireSteps(steps);
      String id = power == 1 ? "vp-uniform" : "vp-quadratic";
      double lo = p.tMin();
      double hi = p.tMax();
      if (!(p.sigma(lo) > 0) || !(hi > lo)) {
        throw new IllegalArgumentException("grid '" + id + "' needs sigma(t_min) > 0 and t_max > t_min; process "
            + p.id() + " has t in [" + lo + ", " + hi + "] with sigma(t_min) = " + p.sigma(lo));
      }
      double a = Math.pow(hi, 1 / power);
      double b = Math.pow(lo, 1 / power);
      double[] t = new double[steps + 1];
      for (int i = 0; i <= steps; i++) {
        t[i] = Math.pow(a + (b - a) * i / steps, power);
      }
      t[0] = hi;
      t[steps] = lo;
      double[] sg = new double[steps + 1];
      for (int i = 0; i <= steps; i++) {
        sg[i] = p.sigma(t[i]);
      }
      requireDecreasing(sg, id, new double[] {sg[steps], sg[0]}, Double.NaN, "use fewer --steps");
      return Grid.ofTimes(p, t);
    }
  }

  /**
   * diffusers' timestep spacings over a discrete process, then σ = 0 at t = −1.
   *
   * <p>Without {@code dropLast} (Table 2 of Lin et al. 2024, diffusers' DDIM/DDPM/Euler):
   * {@code linspace}: round(linspace(0, T−1, N)); {@code leading}: (0..N−1)·(T div N) + offset;
   * {@code trailing}: round(T − k·T/N) − 1. With {@code dropLast} (DPMSolverMultistep, DEIS, UniPC)
   * linspace and leading are computed on N + 1 points and the last dropped. Rounding is half-to-even,
   * as numpy's.
   *
   * @param spacing {@code leading}, {@code trailing} or {@code linspace}
   * @param stepsOffset added to leading timesteps (Stable Diffusion uses 1)
   * @param dropLast the multistep schedulers' N + 1 convention
   * @param fractional linspace only: keep {@code linspace(0, T−1, N)} unrounded (in float32, as numpy computes
   *     it) and interpolate σ linearly in t ({@link DiscreteDdpm#sigmaLinear}) — diffusers' Euler, Heun and LMS
   *     schedulers ({@code interpolation_type = "linear"}); a network told t should then be told these fractional
   *     timesteps ({@link DiscreteDdpm#timestepLinear} of the grid's σ's)
   */
  record Timesteps(String spacing, int stepsOffset, boolean dropLast, boolean fractional) implements GridSpec {
    /** Integer timesteps (every scheduler but the Euler-type ones on linspace). */
    public Timesteps(String spacing, int stepsOffset, boolean dropLast) {
      this(spacing, stepsOffset, dropLast, false);
    }

    public Timesteps {
      spacing = spacing.toLowerCase(Locale.ROOT);
      if (!List.of("leading", "trailing", "linspace").contains(spacing)) {
        throw new IllegalArgumentException(
            "unknown timestep spacing '" + spacing + "'; accepted: leading, trailing, linspace");
      }
      if (stepsOffset < 0) {
        throw new IllegalArgumentException("steps-offset must be >= 0, got " + stepsOffset);
      }
      if (fractional && (!spacing.equals("linspace") || dropLast)) {
        throw new IllegalArgumentException("fractional timesteps apply to the linspace spacing without drop-last "
            + "(diffusers' Euler/Heun/LMS), not " + spacing + (dropLast ? " with drop-last" : ""));
      }
    }

    /** The integer timesteps, decreasing (without the final −1). */
    public long[] timesteps(int trainSteps, int steps) {
      requireSteps(steps);
      if (steps > trainSteps) {
        throw new IllegalArgumentException(
            "steps (" + steps + ") must not exceed train-steps (" + trainSteps + ")");
      }
      long[] ts = new long[steps];
      int m = dropLast ? steps + 1 : steps;
      switch (spacing) {
        case "linspace":
          for (int i = 0; i < steps; i++) {
            int k = m - 1 - i;
            ts[i] = (long) Math.rint(m == 1 ? 0 : (double) (trainSteps - 1) * k / (m - 1));
          }
          break;
        case "leading": {
          int ratio = trainSteps / m;
          for (int i = 0; i < steps; i++) {
            ts[i] = (long) (m - 1 - i) * ratio + stepsOffset;
          }
          break;
        }
        default: {
          double ratio = (double) trainSteps / steps;
          for (int i = 0; i < steps; i++) {
            ts[i] = (long) Math.rint(trainSteps - i * ratio) - 1;
          }
        }
      }
      for (long v : ts) {
        if (v < 0 || v > trainSteps - 1) {
          throw new IllegalArgumentException(
              "timestep " + v + " is outside [0, " + (trainSteps - 1) + "]; lower steps-offset");
        }
      }
      return ts;
    }

    @Override
    public Grid build(NoiseProcess p, int steps) {
      if (!(p instanceof DiscreteDdpm d)) {
        throw new IllegalArgumentException(
            "grid '" + spacing + "' places discrete timesteps and needs --process ddpm, got " + p.id());
      }
      if (fractional) {
        requireSteps(steps);
        if (steps < 2 || steps > d.trainSteps()) {
          throw new IllegalArgumentException("fractional linspace: steps must lie in [2, " + d.trainSteps() + "], got "
              + steps);
        }
        int last = d.trainSteps() - 1;
        double[] sg = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
          sg[i] = d.sigmaLinear((float) ((double) last * (steps - 1 - i) / (steps - 1)));
        }
        return Grid.ofSigmas(p, sg);
      }
      long[] ts = timesteps(d.trainSteps(), steps);
      double[] t = new double[steps + 1];
      for (int i = 0; i < steps; i++) {
        t[i] = ts[i];
      }
      t[steps] = d.tData();
      return Grid.ofTimes(p, t);
    }
  }

  /**
   * Parses a grid identifier with its options ({@code NaN} σ bounds mean "the process's own").
   */
  static GridSpec parse(String id, double sigmaMin, double sigmaMax, double rho, double betaMin,
      double betaMax, double tMin, int stepsOffset, boolean dropLast) {
    return parse(id, sigmaMin, sigmaMax, rho, betaMin, betaMax, tMin, stepsOffset, dropLast, false);
  }

  /** {@link #parse} with fractional linspace timesteps ({@link Timesteps#fractional}). */
  static GridSpec parse(String id, double sigmaMin, double sigmaMax, double rho, double betaMin,
      double betaMax, double tMin, int stepsOffset, boolean dropLast, boolean fractional) {
    if (fractional && !id.toLowerCase(Locale.ROOT).equals("linspace")) {
      throw new IllegalArgumentException("fractional timesteps apply to --grid linspace only, not " + id);
    }
    switch (id.toLowerCase(Locale.ROOT)) {
      case "karras":
        return new Karras(sigmaMin, sigmaMax, Double.isNaN(rho) ? 7 : rho);
      case "exponential":
        return new Exponential(sigmaMin, sigmaMax);
      case "polyexponential":
        return new PolyExponential(sigmaMin, sigmaMax, Double.isNaN(rho) ? 1 : rho);
      case "vp":
        return new VpTime(betaMin, betaMax, tMin);
      case "lambda":
        return new UniformLambda(sigmaMin, sigmaMax);
      case "vp-uniform":
        return new TimePower(1);
      case "vp-quadratic":
        return new TimePower(2);
      case "leading":
      case "trailing":
      case "linspace":
        return new Timesteps(id, stepsOffset, dropLast, fractional);
      default:
        throw new IllegalArgumentException(
            "unknown grid '" + id + "'; accepted: " + String.join(", ", IDS));
    }
  }

  /**
   * The most steps a grid may have: 1,000,000. Beyond it no sampler gains accuracy in double (the
   * steps fall below the rounding of σ), and a grid of N steps holds N + 1 points per array.
   */
  int MAX_STEPS = 1_000_000;

  private static void requireSteps(int steps) {
    if (steps < 1 || steps > MAX_STEPS) {
      throw new IllegalArgumentException("steps must lie in [1, " + MAX_STEPS + "], got " + steps);
    }
  }

  /** Names the grid, its options and what to try when its σ's (before the final 0) do not strictly decrease. */
  private static void requireDecreasing(double[] sg, String grid, double[] range, double rho, String advice) {
    int last = sg.length - 1;
    for (int i = 1; i < sg.length; i++) {
      if (i == last && sg[i] == 0) {
        break; // the final 0 of grids that end at data
      }
      if (!(sg[i] < sg[i - 1]) || !(sg[i] > 0)) {
        throw new IllegalArgumentException("the " + grid + " grid with sigma-min " + range[0] + ", sigma-max "
            + range[1] + (Double.isNaN(rho) ? "" : ", rho " + rho) + " and " + (sg.length - 1)
            + " steps collapses in double precision (sigma[" + (i - 1) + "] = " + sg[i - 1] + ", sigma[" + i
            + "] = " + sg[i] + "); " + advice);
      }
    }
  }

  /** [σ_min, σ_max] with the process's defaults for NaN, validated. */
  private static double[] range(NoiseProcess p, double sigmaMin, double sigmaMax, int steps) {
    requireSteps(steps);
    double lo = Double.isNaN(sigmaMin) ? p.sigmaMin() : sigmaMin;
    double hi = Double.isNaN(sigmaMax) ? p.sigmaMax() : sigmaMax;
    if (!(lo > 0) || Double.isInfinite(lo)) {
      throw new IllegalArgumentException("sigma-min must be a finite number > 0, got " + lo);
    }
    if (!(hi > lo) || Double.isInfinite(hi)) {
      throw new IllegalArgumentException(
          "sigma-max must be finite and > sigma-min (" + lo + "), got " + hi);
    }
    return new double[] {lo, hi};
  }
}
