package org.diffusion4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.ode.DpmSolverV3;
import org.diffusion4j.sampling.ode.EmsEstimator;
import org.diffusion4j.sampling.ode.ModelStatistics;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridOptions;

/**
 * Error vs NFE at a fixed NFE budget: for each budget B in 3, 4, 5, 6, 8, 10, 15, 20, 50 and each candidate
 * (sampler, parameters, grid) the largest number of steps whose NFE is at most B, and the median over the
 * samples of the per-sample L2 error of the final samples against the exact PF-ODE from the same initial
 * state ({@link ExactFlow}, tolerance 1e-11), on the 2-D demo mixture, the 16-D mixture and a 64-D mixture
 * with component widths from 0.02 to 1. Usage: {@code bin/bench samplers nfe [samples] [candidate ...]},
 * a candidate spelled {@code sampler[:k=v;k=v]@grid[:rho]}, e.g. {@code dpmpp-2m@karras},
 * {@code unipc:order=3;variant=bh1@karras:5}, {@code auto@karras}.
 */
public final class NfeBench {
  static final int[] NFE = {3, 4, 5, 6, 8, 10, 15, 20, 50};

  private NfeBench() {}

  /** The 64-D mixture: 8 components, seeded means in [−3, 3]^64, widths 0.02 … 1 (log-spaced). */
  static GaussianMixture mixture64d() {
    SplittableRandom rng = new SplittableRandom(64);
    int k = 8;
    double[] w = new double[k];
    double[][] mu = new double[k][64];
    double[] s = new double[k];
    for (int i = 0; i < k; i++) {
      w[i] = 1 + i % 4;
      s[i] = 0.02 * Math.pow(50, i / (k - 1.0));
      for (int j = 0; j < 64; j++) {
        mu[i][j] = rng.nextDouble(-3, 3);
      }
    }
    return new GaussianMixture(w, mu, s);
  }

  /** A parsed candidate. */
  record Candidate(String label, String sampler, Map<String, String> params, String grid, double rho) {
    static Candidate parse(String spec) {
      String[] sg = spec.split("@", 2);
      String[] sp = sg[0].split(":", 2);
      Map<String, String> params = new LinkedHashMap<>();
      if (sp.length > 1) {
        params.putAll(SamplerParams.parseAssignments(Arrays.asList(sp[1].split(";"))));
      }
      String grid = sg.length > 1 ? sg[1] : "karras";
      double rho = Double.NaN;
      if (grid.contains(":")) {
        rho = Double.parseDouble(grid.substring(grid.indexOf(':') + 1));
        grid = grid.substring(0, grid.indexOf(':'));
      }
      return new Candidate(spec, sp[0], params, grid, rho);
    }

    Sampler build() {
      return SamplerRegistry.create(sampler, params);
    }

    /**
     * The sampler for a problem: {@code dpm-solver-v3:stats=estimate} takes the statistics estimated from the
     * problem's own model ({@link Problem#statistics}); every other candidate is {@link #build()}.
     */
    Sampler build(Problem p) {
      if (sampler.equals("dpm-solver-v3") && "estimate".equals(params.get("stats"))) {
        Map<String, String> rest = new LinkedHashMap<>(params);
        rest.remove("stats");
        DpmSolverV3 base = (DpmSolverV3) SamplerRegistry.create(sampler, rest);
        boolean corrector = !"false".equals(params.getOrDefault("corrector", "auto")); // auto: on with statistics
        return new DpmSolverV3(base.order(), corrector, base.lowerOrderFinal(), p.statistics(),
            "estimated on " + p.name());
      }
      return build();
    }

    Grid grid(NoiseProcess p, int steps) {
      GridOptions o = GridOptions.of(grid);
      o = new GridOptions(o.grid(), o.sigmaMin(), o.sigmaMax(), rho, o.betaMin(), o.betaMax(), o.tMin(),
          o.stepsOffset(), o.dropLast());
      return o.spec().build(p, steps);
    }
  }

  static final List<String> DEFAULT = List.of("auto@karras", "dpmpp-2m@karras", "dpmpp-3m@karras",
      "dpmpp-3m:variant=taylor@karras", "unipc@karras", "unipc:order=3;variant=bh1@karras", "deis@karras",
      "dpm-solver-fast@karras", "heun@karras", "dpm-solver-v3:stats=estimate@karras",
      "dpm-solver-v3:stats=estimate;corrector=false@karras");

  /**
   * DPM-Solver-v3's statistics of a mixture as {@code d4j stats} estimates them by default (σ 0.002 … 80, 120 knots,
   * 1024 calibration trajectories on seeds from 1,000,000, which no problem's samples use), computed once.
   */
  static ModelStatistics statistics(GaussianMixture gm) {
    return STATS.computeIfAbsent(gm, g -> {
      try (NDManager m = NDManager.newBaseManager()) {
        return EmsEstimator.estimate(g.denoiser(), new long[] {g.dim()},
            new EmsEstimator.Calibration(0.002, 80, 120, 1024, 1_000_000, 256), m, DataType.FLOAT64, "bench");
      }
    });
  }

  private static final Map<GaussianMixture, ModelStatistics> STATS = new java.util.concurrent.ConcurrentHashMap<>();

  /** A problem: mixture, samples, their initial state at σ_max and the exact flow to σ = 0. */
  record Problem(String name, GaussianMixture gm, long[] seeds, double[] prior, double[] reference) {
    /** DPM-Solver-v3's statistics of this problem's model ({@link NfeBench#statistics}). */
    ModelStatistics statistics() {
      return NfeBench.statistics(gm);
    }

    static Problem of(String name, GaussianMixture gm, int n) {
      return of(name, gm, n, 0);
    }

    static Problem of(String name, GaussianMixture gm, int n, long firstSeed) {
      long[] seeds = Sampling.seedRange(firstSeed, firstSeed + n - 1);
      Grid first = org.diffusion4j.schedule.GridSpec.karras().build(Edm.DEFAULT, 2);
      double[] prior = Sampling.prior(first, seeds, gm.dim());
      double[] reference = ExactFlow.solve(gm, prior.clone(), first.sigma(0), 0);
      return new Problem(name, gm, seeds, prior, reference);
    }

    /** Median per-sample L2 error of a run and its NFE. */
    double[] error(Candidate c, int budget) {
      Sampler s = c.build(this);
      int steps = 1;
      Sampling.Result best = null;
      for (int k = 1; k <= budget; k++) {
        Sampling.Result r;
        try {
          r = Sampling.of(gm.denoiser(), gm.dim()).sampler(s).grid(c.grid(Edm.DEFAULT, k)).seeds(seeds[0])
              .initial(Arrays.copyOf(prior, gm.dim())).run();
        } catch (RuntimeException e) {
          continue;
        }
        if (r.nfeMax() > budget) {
          break;
        }
        steps = k;
        best = r;
      }
      if (best == null) {
        return new double[] {Double.NaN, 0, 0};
      }
      double[] out = errorOn(s, c.grid(Edm.DEFAULT, steps));
      return new double[] {out[0], best.nfeMax(), steps};
    }

    /** Median per-sample L2 error of sampler s on grid g, and its NFE. */
    double[] errorOn(Sampler s, Grid g) {
      Sampling.Result r = Sampling.of(gm.denoiser(), gm.dim()).sampler(s).grid(g).seeds(seeds).initial(prior).run();
      int d = gm.dim();
      double[] e = new double[seeds.length];
      for (int i = 0; i < seeds.length; i++) {
        double acc = 0;
        for (int j = 0; j < d; j++) {
          double v = r.samples()[i * d + j] - reference[i * d + j];
          acc += v * v;
        }
        e[i] = Math.sqrt(acc);
      }
      Arrays.sort(e);
      return new double[] {e[e.length / 2], r.nfeMax()};
    }
  }

  /** Optimised grids per problem: {@code bin/bench samplers nfe-opt [samples] [candidate ...]}. */
  static void optimise(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    List<String> specs = args.length > 1 ? Arrays.asList(args).subList(1, args.length) : List.of("deis@karras");
    List<Problem> problems = List.of(Problem.of("2-D demo mixture", GaussianMixture.demo2d(), n),
        Problem.of("16-D mixture", SamplerBench.mixture16d(), n), Problem.of("64-D mixture, widths 0.02-1",
            mixture64d(), n));
    for (Problem p : problems) {
      // Calibration: other seeds than the evaluation's.
      Problem cal = Problem.of(p.name(), p.gm(), n, 100_000);
      System.out.printf(Locale.ROOT, "%n== %s%n", p.name());
      for (String spec : specs) {
        Candidate c = Candidate.parse(spec);
        for (int b : new int[] {3, 4, 5, 6, 8, 10}) {
          double[] base = p.error(c, b);
          int steps = (int) base[2];
          Grid start = c.grid(Edm.DEFAULT, steps);
          long t0 = System.nanoTime();
          org.diffusion4j.sampling.GridOptimizer.Result r = org.diffusion4j.sampling.GridOptimizer.optimize(
              p.gm().denoiser(), new long[] {p.gm().dim()}, c.build(), start, cal.prior(), cal.reference(), 400);
          double[] opt = p.errorOn(c.build(), r.grid());
          System.out.printf(Locale.ROOT, "%-36s NFE %2d: start %9.2e  optimised %9.2e  (%.1fx, %d runs, %.1f s) %s%n",
              spec, b, base[0], opt[0], base[0] / opt[0], r.evaluations(), (System.nanoTime() - t0) / 1e9,
              Arrays.toString(Arrays.stream(r.grid().sigmas()).map(v -> Math.round(v * 1e4) / 1e4).toArray()));
        }
      }
    }
  }

  /**
   * The table of {@code --sampler auto}: {@code bin/bench samplers nfe-tune [calibration samples] [--write FILE]}.
   * For each budget up to 10 NFE and each of dpmpp-2m, unipc and deis, a grid optimised jointly on calibration
   * states of the three mixtures (seeds from 100000, disjoint from the evaluation seeds), from the better of two
   * Karras starts (σ_min 0.002 and 0.05); the entry is the pair with the lowest calibration cost. Above 10 NFE
   * the best of those samplers on the Karras grid. Prints the evaluation errors next to dpmpp-2m on Karras.
   */
  static void tune(String[] args) throws java.io.IOException {
    int n = 128;
    String write = null;
    int fromNfe = 0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--write")) {
        write = args[++i];
      } else if (args[i].equals("--from-nfe")) {
        fromNfe = Integer.parseInt(args[++i]);
      } else {
        n = Integer.parseInt(args[i]);
      }
    }
    List<Problem> eval = List.of(Problem.of("2-D", GaussianMixture.demo2d(), 500),
        Problem.of("16-D", SamplerBench.mixture16d(), 500), Problem.of("64-D", mixture64d(), 500));
    List<org.diffusion4j.sampling.GridOptimizer.Calibration> cal = new ArrayList<>();
    for (Problem p : eval) {
      Problem c = Problem.of(p.name(), p.gm(), n, 100_000);
      cal.add(new org.diffusion4j.sampling.GridOptimizer.Calibration(p.gm().denoiser(), new long[] {p.gm().dim()},
          c.prior(), c.reference()));
    }
    // Optimised grids for the one-step-history samplers; above 10 NFE also the third-order ones on Karras.
    String[] samplers = {"dpmpp-2m", "unipc", "deis"};
    String[] more = {"unipc:order=3;variant=bh1", "dpmpp-3m:variant=taylor"};
    StringBuilder json = new StringBuilder("{\n  \"measured\": \"bin/bench samplers nfe-tune " + n
        + " (EDM, sigma 80 -> 0; grids optimised jointly on the 2-D, 16-D and 64-D mixtures)\",\n  \"entries\": [");
    boolean firstEntry = true;
    for (int b : NFE) {
      if (b < fromNfe) {
        continue;
      }
      String bestS = null;
      Grid bestG = null;
      double bestCost = Double.POSITIVE_INFINITY;
      List<String> pool = new ArrayList<>(List.of(samplers));
      if (b > 10) {
        pool.addAll(List.of(more));
      }
      for (String sid : pool) {
        Sampler s = Candidate.parse(sid).build();
        for (double smin : b <= 10 ? new double[] {0.002, 0.05} : new double[] {0.002}) {
          Grid start = new org.diffusion4j.schedule.GridSpec.Karras(smin, 80, 7).build(Edm.DEFAULT, b);
          // Above 10 NFE the Karras grid itself (auto places it there).
          org.diffusion4j.sampling.GridOptimizer.Result r = b <= 10
              ? org.diffusion4j.sampling.GridOptimizer.optimize(cal, s, start, 300) : null;
          double cost = r != null ? r.error() : org.diffusion4j.sampling.GridOptimizer.cost(cal, s, start);
          if (cost < bestCost) {
            bestCost = cost;
            bestS = sid;
            bestG = r != null ? r.grid() : start;
          }
        }
      }
      Sampler best = Candidate.parse(bestS).build();
      Sampler peer = SamplerRegistry.create("dpmpp-2m", Map.of());
      Grid karras = org.diffusion4j.schedule.GridSpec.karras().build(Edm.DEFAULT, b);
      System.out.printf(Locale.ROOT, "NFE %2d  %-9s", b, bestS);
      for (Problem p : eval) {
        double a = p.errorOn(best, bestG)[0];
        double k = p.errorOn(peer, karras)[0];
        System.out.printf(Locale.ROOT, "  %s %9.2e (dpmpp-2m karras %9.2e, %5.1fx)", p.name(), a, k, k / a);
      }
      System.out.println();
      Candidate bc = Candidate.parse(bestS);
      json.append(firstEntry ? "" : ",").append("\n    {\"nfe\": ").append(b).append(", \"sampler\": \"")
          .append(bc.sampler()).append("\"");
      if (!bc.params().isEmpty()) {
        json.append(", \"params\": {");
        boolean f = true;
        for (Map.Entry<String, String> pe : bc.params().entrySet()) {
          json.append(f ? "" : ", ").append('"').append(pe.getKey()).append("\": \"").append(pe.getValue()).append('"');
          f = false;
        }
        json.append("}");
      }
      firstEntry = false;
      if (b <= 10) {
        json.append(", \"sigmas\": [");
        double[] sg = bestG.sigmas();
        for (int i = 1; i < sg.length - 1; i++) {
          json.append(i > 1 ? ", " : "").append(sg[i]);
        }
        json.append("]");
      }
      json.append("}");
    }
    json.append("\n  ]\n}\n");
    System.out.print(json);
    if (write != null) {
      java.nio.file.Files.writeString(java.nio.file.Path.of(write), json);
    }
  }

  public static void main(String[] args) {
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    String only = "2d,16d,64d";
    for (java.util.Iterator<String> it = rest.iterator(); it.hasNext(); ) {
      String a = it.next();
      if (a.startsWith("--problems=")) {
        only = a.substring("--problems=".length());
        it.remove();
      }
    }
    int n = rest.size() > 0 ? Integer.parseInt(rest.get(0)) : 500;
    List<String> specs = rest.size() > 1 ? rest.subList(1, rest.size()) : DEFAULT;
    List<Candidate> cands = new ArrayList<>();
    for (String s : specs) {
      cands.add(Candidate.parse(s));
    }
    List<Problem> problems = new ArrayList<>();
    List<String> wanted = Arrays.asList(only.split(","));
    for (String w : wanted) {
      if (!List.of("2d", "16d", "64d").contains(w)) {
        throw new IllegalArgumentException("unknown problem '" + w + "' in --problems; accepted: 2d, 16d, 64d");
      }
    }
    if (wanted.contains("2d")) {
      problems.add(Problem.of("2-D demo mixture", GaussianMixture.demo2d(), n));
    }
    if (wanted.contains("16d")) {
      problems.add(Problem.of("16-D mixture", SamplerBench.mixture16d(), n));
    }
    if (wanted.contains("64d")) {
      problems.add(Problem.of("64-D mixture, widths 0.02-1", mixture64d(), n));
    }
    System.out.printf(Locale.ROOT, "Median per-sample L2 error against the exact PF-ODE at an NFE budget; EDM process, "
        + "σ 80 → 0, float64, %d samples.%n", n);
    for (Problem p : problems) {
      System.out.printf(Locale.ROOT, "%n== %s%n%-40s", p.name(), "candidate \\ NFE");
      for (int b : NFE) {
        System.out.printf(Locale.ROOT, " %9d", b);
      }
      System.out.println();
      for (Candidate c : cands) {
        System.out.printf(Locale.ROOT, "%-40s", c.label());
        for (int b : NFE) {
          double[] r = p.error(c, b);
          System.out.printf(Locale.ROOT, " %9.2e", r[0]);
        }
        System.out.println();
      }
    }
  }
}
