package org.diffusion4j.sampling;

import java.util.Arrays;
import java.util.Comparator;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.schedule.Grid;

/**
 * A step-schedule optimiser: the interior noise levels σ_1 &gt; … &gt; σ_{N−1} of an N-step grid from σ_0 to
 * σ_N (σ_N = 0 or the grid's last σ) that minimise, for a given sampler, the mean squared error of its final
 * samples against the model's own high-accuracy ODE solution from the same calibration states (the median over
 * the states of the per-sample L2 error) — the
 * solver's global discretisation error on the model's trajectories, in the spirit of "Align Your Steps"
 * (Sabour, Fidler &amp; Kreis 2024), which fits a schedule to the model rather than a closed-form grid, and of
 * DPM-Solver-v3 (Zheng et al. 2023), which calibrates the solver on model statistics.
 *
 * <p>The search is Nelder–Mead (Nelder &amp; Mead 1965) over u_i = log σ_i, starting from a given grid
 * (two passes: simplex steps 0.5 then 0.1 from the first pass's best point);
 * a candidate whose σ's do not strictly decrease is rejected (infinite cost). The calibration states and
 * targets are the caller's (see {@link #targets}); they must not be the states the result is evaluated on.
 */
public final class GridOptimizer {
  private GridOptimizer() {}

  /**
   * The optimised grid and how it did.
   *
   * @param grid the optimised grid (same endpoints as the start)
   * @param error median per-sample L2 error of the sampler on it (calibration states)
   * @param startError the same for the start grid
   * @param evaluations sampler runs spent
   */
  public record Result(Grid grid, double error, double startError, int evaluations) {}

  /**
   * One calibration problem: a model, its sample shape, calibration states (process coordinates at the grid's
   * first point, n·d row-major) and the model's own final states for them ({@link #targets}).
   */
  public record Calibration(Denoiser model, long[] sampleShape, double[] x0, double[] target) {
    public Calibration {
      if (x0.length != target.length || x0.length == 0) {
        throw new IllegalArgumentException("calibration states (" + x0.length + " values) and targets ("
            + target.length + ") must be non-empty and of equal length");
      }
    }
  }

  /**
   * The model's own final states from {@code x0} (process coordinates at the grid's first σ): {@code reference}
   * run on {@code grid} (e.g. {@code dpm-solver-adaptive} with rtol = atol = 1e-7, or 500 Heun steps).
   */
  public static double[] targets(Denoiser model, long[] sampleShape, Sampler reference, Grid grid, double[] x0) {
    int d = 1;
    for (long v : sampleShape) {
      d *= (int) v;
    }
    long[] seeds = Sampling.seedRange(0, x0.length / d - 1);
    return Sampling.of(model, sampleShape).sampler(reference).grid(grid).seeds(seeds).initial(x0).run().samples();
  }

  /**
   * Optimises the interior σ's of {@code start} for {@code sampler}.
   *
   * @param model the denoiser
   * @param sampleShape one sample's shape
   * @param sampler a deterministic sampler
   * @param start the starting grid (its endpoints are kept)
   * @param x0 calibration states, n·d row-major, in process coordinates at {@code start}'s first point
   * @param target the model's own final states for {@code x0} ({@link #targets})
   * @param maxEvaluations budget of sampler runs (e.g. 300)
   */
  public static Result optimize(Denoiser model, long[] sampleShape, Sampler sampler, Grid start, double[] x0,
      double[] target, int maxEvaluations) {
    return optimize(java.util.List.of(new Calibration(model, sampleShape, x0, target)), sampler, start,
        maxEvaluations);
  }

  /**
   * Optimises the interior σ's of {@code start} for {@code sampler} over several calibration problems at
   * once: the cost is the geometric mean of their median errors (each problem counts by its relative error).
   * {@link Result#error} is that geometric mean.
   */
  public static Result optimize(java.util.List<Calibration> problems, Sampler sampler, Grid start,
      int maxEvaluations) {
    if (sampler.stochastic()) {
      throw new IllegalArgumentException("the grid optimiser needs a deterministic sampler, got " + sampler.id());
    }
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("the grid optimiser needs at least one calibration problem");
    }
    if (maxEvaluations < 1) {
      throw new IllegalArgumentException("maxEvaluations must be >= 1, got " + maxEvaluations);
    }
    NoiseProcess p = start.process();
    double[] sg = start.sigmas();
    int n = sg.length - 2; // free interior points
    int[] evals = {0};
    java.util.function.ToDoubleFunction<Grid> onGrid = g -> {
      double acc = 0;
      for (Calibration c : problems) {
        acc += Math.log(error(c.model(), c.sampleShape(), sampler, g, c.x0(), c.target()));
      }
      return Math.exp(acc / problems.size());
    };
    java.util.function.ToDoubleFunction<double[]> cost = u -> {
      evals[0]++;
      double[] s = sigmasOf(sg, u);
      if (s == null) {
        return Double.POSITIVE_INFINITY;
      }
      double e = onGrid.applyAsDouble(Grid.ofSigmas(p, s));
      return Double.isFinite(e) ? e : Double.POSITIVE_INFINITY;
    };
    double[] u0 = new double[n];
    for (int i = 0; i < n; i++) {
      u0[i] = Math.log(sg[i + 1]);
    }
    double startError = onGrid.applyAsDouble(start);
    if (n == 0) {
      return new Result(start, startError, startError, 1);
    }
    // Two passes: a coarse simplex, then a restart from its best point with a finer one.
    int first = (maxEvaluations - 2) * 2 / 3;
    double[] best = nelderMead(cost, u0, 0.5, Math.max(first, n + 1));
    best = nelderMead(cost, best, 0.1, Math.max(maxEvaluations - 2 - evals[0], n + 1));
    Grid g = Grid.ofSigmas(p, sigmasOf(sg, best));
    double err = onGrid.applyAsDouble(g);
    if (!(err < startError)) {
      return new Result(start, startError, startError, evals[0] + 2);
    }
    return new Result(g, err, startError, evals[0] + 2);
  }

  /** The optimiser's cost of {@code sampler} on {@code grid}: the geometric mean of the problems' median errors. */
  public static double cost(java.util.List<Calibration> problems, Sampler sampler, Grid grid) {
    double acc = 0;
    for (Calibration c : problems) {
      acc += Math.log(error(c.model(), c.sampleShape(), sampler, grid, c.x0(), c.target()));
    }
    return Math.exp(acc / problems.size());
  }

  /** The grid's σ's with the interior replaced by e^u, or null unless strictly decreasing and positive. */
  private static double[] sigmasOf(double[] sg, double[] u) {
    double[] s = sg.clone();
    for (int i = 0; i < u.length; i++) {
      s[i + 1] = Math.exp(u[i]);
    }
    for (int i = 1; i < s.length; i++) {
      boolean lastZero = i == s.length - 1 && s[i] == 0;
      if (!(s[i] < s[i - 1]) || !(s[i] > 0 || lastZero)) {
        return null;
      }
    }
    return s;
  }

  /**
   * The median over the samples of the per-sample L2 error of {@code sampler} on {@code grid} — robust to the
   * few samples that end between modes, and the statistic the project's benchmark reports.
   */
  static double error(Denoiser model, long[] sampleShape, Sampler sampler, Grid grid, double[] x0, double[] target) {
    long[] seeds = Sampling.seedRange(0, x0.length / perSample(sampleShape) - 1);
    double[] got;
    try {
      got = Sampling.of(model, sampleShape).sampler(sampler).grid(grid).seeds(seeds).initial(x0).run().samples();
    } catch (NonFiniteSampleException e) {
      return Double.POSITIVE_INFINITY;
    }
    int d = got.length / seeds.length;
    double[] e = new double[seeds.length];
    for (int k = 0; k < seeds.length; k++) {
      double acc = 0;
      for (int j = k * d; j < (k + 1) * d; j++) {
        double v = got[j] - target[j];
        acc += v * v;
      }
      e[k] = Math.sqrt(acc);
    }
    Arrays.sort(e);
    return seeds.length % 2 == 1 ? e[seeds.length / 2] : 0.5 * (e[seeds.length / 2 - 1] + e[seeds.length / 2]);
  }

  private static int perSample(long[] shape) {
    int d = 1;
    for (long v : shape) {
      d *= (int) v;
    }
    return d;
  }

  /** Nelder–Mead minimisation from x0 with initial simplex step {@code step}, at most {@code budget} evaluations. */
  static double[] nelderMead(java.util.function.ToDoubleFunction<double[]> f, double[] x0, double step, int budget) {
    int n = x0.length;
    double[][] pts = new double[n + 1][];
    double[] val = new double[n + 1];
    pts[0] = x0.clone();
    val[0] = f.applyAsDouble(pts[0]);
    int used = 1;
    for (int i = 0; i < n; i++) {
      pts[i + 1] = x0.clone();
      pts[i + 1][i] += step;
      val[i + 1] = f.applyAsDouble(pts[i + 1]);
      used++;
    }
    Integer[] idx = new Integer[n + 1];
    while (used < budget) {
      for (int i = 0; i <= n; i++) {
        idx[i] = i;
      }
      final double[] v = val;
      Arrays.sort(idx, Comparator.comparingDouble(i -> v[i]));
      double[][] sp = new double[n + 1][];
      double[] sv = new double[n + 1];
      for (int i = 0; i <= n; i++) {
        sp[i] = pts[idx[i]];
        sv[i] = val[idx[i]];
      }
      pts = sp;
      val = sv;
      double[] c = new double[n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          c[j] += pts[i][j] / n;
        }
      }
      double[] xr = lerp(c, pts[n], -1);
      double fr = f.applyAsDouble(xr);
      used++;
      if (fr < val[0]) {
        double[] xe = lerp(c, pts[n], -2);
        double fe = f.applyAsDouble(xe);
        used++;
        if (fe < fr) {
          pts[n] = xe;
          val[n] = fe;
        } else {
          pts[n] = xr;
          val[n] = fr;
        }
      } else if (fr < val[n - 1]) {
        pts[n] = xr;
        val[n] = fr;
      } else {
        double[] xc = fr < val[n] ? lerp(c, pts[n], -0.5) : lerp(c, pts[n], 0.5);
        double fc = f.applyAsDouble(xc);
        used++;
        if (fc < Math.min(fr, val[n])) {
          pts[n] = xc;
          val[n] = fc;
        } else {
          // Shrink towards the best point.
          for (int i = 1; i <= n && used < budget; i++) {
            pts[i] = lerp(pts[0], pts[i], 0.5);
            val[i] = f.applyAsDouble(pts[i]);
            used++;
          }
        }
      }
    }
    int b = 0;
    for (int i = 1; i <= n; i++) {
      if (val[i] < val[b]) {
        b = i;
      }
    }
    return pts[b];
  }

  /** c + a·(p − c). */
  private static double[] lerp(double[] c, double[] p, double a) {
    double[] out = new double[c.length];
    for (int i = 0; i < c.length; i++) {
      out[i] = c[i] + a * (p[i] - c[i]);
    }
    return out;
  }
}
