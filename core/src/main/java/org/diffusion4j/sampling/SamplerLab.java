package org.diffusion4j.sampling;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.SampleStats;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.ode.Rk45;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * Error against cost: every (sampler, grid) pair run at the most steps that fit each NFE budget
 * ({@link NfeBudget}), from the same seeds, its final samples scored by a {@link Metric} — the
 * error-vs-NFE curves by which samplers are compared (Karras et al. 2022 Fig. 2; Lu et al. 2022 Fig. 3).
 *
 * <p>Two path-wise references are built in: {@link #exact} (a Gaussian mixture's exact PF-ODE,
 * {@link ExactFlow}) and {@link #solver} (a tight-tolerance RK45 solve of the same model, for trained
 * networks). Both give the RMS distance of each sample to where the exact flow takes the same initial
 * noise; distribution metrics (sliced Wasserstein, Fréchet distance…) plug in as any other {@link Metric}.
 */
public final class SamplerLab {
  private SamplerLab() {}

  /** The error of a run's final samples (data scale, n·d row-major) drawn on {@code grid}. */
  @FunctionalInterface
  public interface Metric {
    double error(Grid grid, double[] samples);
  }

  /** A sampler to compare, under its display label (e.g. {@code lms:order=2}). */
  public record Entry(String label, Sampler sampler) {
    public Entry {
      Objects.requireNonNull(label, "label");
      Objects.requireNonNull(sampler, "sampler");
    }
  }

  /** A named grid family. */
  public record NamedGrid(String name, GridSpec spec) {
    public NamedGrid {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(spec, "spec");
    }
  }

  /**
   * One measurement.
   *
   * @param sampler the sampler's label
   * @param grid the grid's name
   * @param budget the NFE budget asked for
   * @param steps grid steps used (0 when the budget is too small for the sampler)
   * @param nfe denoiser evaluations spent (≤ budget)
   * @param error the metric (NaN when not run, +∞ when the sampler's state became non-finite)
   * @param seconds sampling wall time
   */
  public record Point(String sampler, String grid, int budget, int steps, int nfe, double error, double seconds) {
    /** Whether the budget admitted a run. */
    public boolean ran() {
      return steps > 0;
    }
  }

  /** Progress, one call per point. */
  @FunctionalInterface
  public interface Progress {
    void done(Point p);
  }

  /**
   * Runs every sampler on every grid at every budget. Distinct budgets that fit the same number of steps
   * are run once and reported at each budget.
   *
   * @param model the denoiser
   * @param shape one sample's shape
   * @param process the process the grids are built for
   * @param samplers samplers to compare (fixed-step ones)
   * @param grids grid families
   * @param budgets NFE budgets, each ≥ 1
   * @param seeds one seed per sample (the initial noise is the first draws of each seed's stream)
   * @param batch samples per batch
   * @param metric the error of the samples
   * @param progress called after each point (may be null)
   */
  public static List<Point> run(Denoiser model, long[] shape, NoiseProcess process, List<Entry> samplers,
      List<NamedGrid> grids, int[] budgets, long[] seeds, int batch, Metric metric, Progress progress) {
    if (samplers.isEmpty() || grids.isEmpty() || budgets.length == 0 || seeds.length == 0) {
      throw new IllegalArgumentException("the lab needs at least one sampler, grid, NFE budget and seed");
    }
    for (int b : budgets) {
      if (b < 1) {
        throw new IllegalArgumentException("NFE budgets must be >= 1, got " + b);
      }
    }
    for (Entry e : samplers) {
      if (!NfeBudget.fixedCost(e.sampler())) {
        throw new IllegalArgumentException(e.label() + " is adaptive: its NFE depends on the model, not on a budget");
      }
    }
    List<Point> out = new ArrayList<>();
    for (NamedGrid g : grids) {
      for (Entry e : samplers) {
        Map<Integer, Point> bySteps = new HashMap<>();
        for (int budget : budgets) {
          Optional<NfeBudget.Fit> fit = NfeBudget.fit(e.sampler(), g.spec(), process, budget);
          Point p;
          if (fit.isEmpty()) {
            p = new Point(e.label(), g.name(), budget, 0, 0, Double.NaN, 0);
          } else if (bySteps.containsKey(fit.get().steps())) {
            Point q = bySteps.get(fit.get().steps());
            p = new Point(q.sampler(), q.grid(), budget, q.steps(), q.nfe(), q.error(), q.seconds());
          } else {
            Grid grid = g.spec().build(process, fit.get().steps());
            long t0 = System.nanoTime();
            try {
              Sampling.Result r = Sampling.of(model, shape).sampler(e.sampler()).grid(grid).seeds(seeds)
                  .batch(Math.min(batch, seeds.length)).run();
              p = new Point(e.label(), g.name(), budget, grid.steps(), r.nfeMax(), metric.error(grid, r.samples()),
                  r.nanos() / 1e9);
            } catch (NonFiniteSampleException diverged) {
              // A sampler that blows up at this cost is a result, not a failure of the comparison.
              p = new Point(e.label(), g.name(), budget, grid.steps(), fit.get().nfe(), Double.POSITIVE_INFINITY,
                  (System.nanoTime() - t0) / 1e9);
            }
            bySteps.put(grid.steps(), p);
          }
          out.add(p);
          if (progress != null) {
            progress.done(p);
          }
        }
      }
    }
    return out;
  }

  /**
   * RMS distance (over all coordinates) to a mixture's exact PF-ODE solution from each sample's initial
   * noise, solved once per starting σ ({@link ExactFlow}, tolerance 1e-11).
   */
  public static Metric exact(GaussianMixture gm, long[] seeds) {
    return new Reference(seeds, gm.dim(), (grid, xHat) -> ExactFlow.solve(gm, xHat, grid.sigma(0), 0));
  }

  /**
   * RMS distance to a tight-tolerance RK45 solve ({@link Rk45}) of the same model from each sample's
   * initial noise, on the grid {σ_0, last positive σ, 0} of the run being scored (every sampler ends with
   * the same step σ_min → 0), solved once per such pair.
   *
   * @param tol rtol = atol of the reference solve (e.g. 1e-6)
   */
  public static Metric solver(Denoiser model, long[] shape, long[] seeds, int batch, double tol) {
    Rk45 rk = new Rk45(tol, tol, 0);
    int d = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    return new Reference(seeds, d, (grid, xHat) -> {
      Grid ref = referenceGrid(grid);
      return Sampling.of(model, shape).sampler(rk).grid(ref).seeds(seeds).batch(Math.min(batch, seeds.length))
          .run().samples();
    });
  }

  /** The reference grid of {@link #solver}: first σ, last positive σ and the final 0 of {@code g}. */
  static Grid referenceGrid(Grid g) {
    int last = g.size() - 1;
    if (g.sigma(last) > 0) {
      return Grid.ofSigmas(g.process(), g.sigma(0), g.sigma(last));
    }
    int pos = last - 1;
    return pos <= 0 ? Grid.ofSigmas(g.process(), g.sigma(0), 0) : Grid.ofSigmas(g.process(), g.sigma(0), g.sigma(pos), 0);
  }

  /** A path-wise reference computed once per (σ_0, last positive σ), keyed in bits. */
  private static final class Reference implements Metric {
    private final long[] seeds;
    private final int dim;
    private final java.util.function.BiFunction<Grid, double[], double[]> solve;
    private final Map<String, double[]> cache = new HashMap<>();

    Reference(long[] seeds, int dim, java.util.function.BiFunction<Grid, double[], double[]> solve) {
      this.seeds = seeds.clone();
      this.dim = dim;
      this.solve = solve;
    }

    @Override
    public double error(Grid grid, double[] samples) {
      Grid ref = referenceGrid(grid);
      String key = Double.doubleToLongBits(ref.sigma(0)) + ":" + Double.doubleToLongBits(ref.sigma(ref.size() - 2))
          + ":" + Double.doubleToLongBits(ref.sigma(ref.size() - 1));
      double[] target = cache.computeIfAbsent(key, k -> {
        double[] x = Sampling.prior(grid, seeds, dim);
        double s0 = grid.s(0);
        for (int i = 0; i < x.length; i++) {
          x[i] /= s0;
        }
        return solve.apply(grid, x);
      });
      if (target.length != samples.length) {
        throw new IllegalArgumentException("samples hold " + samples.length + " values, the reference " + target.length);
      }
      return SampleStats.rms(samples, target);
    }
  }
}
