package org.diffusion4j.bench;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerLab;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * Quality-vs-NFE and speed of every deterministic sampler in the registry, on the 2-D demo mixture and
 * a 16-D mixture, at 5, 10, 20 and 50 steps of the EDM Karras grid (σ 80 → 0.002 → 0).
 *
 * <p>For each run it prints the RMS error of the final samples against the exact PF-ODE
 * ({@link SamplerLab#exact}, tolerance 1e-11) from the same initial noise, the NFE, the
 * wall time and the sampler overhead {@code (total − time inside denoiser calls) / time inside denoiser
 * calls}. The exact denoiser runs on the host in double, so "denoiser time" includes copying the state
 * out of and back into NDArrays. Usage: {@code bin/bench [samplers] [samples2d] [samples16d]} (default 1000 500).
 */
public final class SamplerBench {
  private static final int[] STEPS = {5, 10, 20, 50};
  private static final int REPEATS = 3;

  private SamplerBench() {}

  /** The 16-D test mixture: 6 components with seeded means in [−2, 2]^16 and stds 0.2…0.45. */
  static GaussianMixture mixture16d() {
    SplittableRandom rng = new SplittableRandom(16);
    int k = 6;
    double[] w = new double[k];
    double[][] mu = new double[k][16];
    double[] s = new double[k];
    for (int i = 0; i < k; i++) {
      w[i] = 1 + i % 3;
      s[i] = 0.2 + 0.05 * i;
      for (int j = 0; j < 16; j++) {
        mu[i][j] = rng.nextDouble(-2, 2);
      }
    }
    return new GaussianMixture(w, mu, s);
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("nfe-tune")) {
      NfeBench.tune(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("nfe")) {
      NfeBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("paradigms")) {
      ParaDigmsBench.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("nfe-opt")) {
      NfeBench.optimise(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    int n2 = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int n16 = args.length > 1 ? Integer.parseInt(args[1]) : 500;
    List<SamplerInfo> samplers = new ArrayList<>();
    for (SamplerInfo s : SamplerRegistry.all()) {
      if (!s.create(Map.of()).stochastic()) {
        samplers.add(s);
      }
    }
    System.out.printf(Locale.ROOT, "Deterministic samplers: %d of %d registered. EDM Karras grid (ρ 7, σ 80 → 0.002 → 0), "
        + "float64, %d warm-up run, best of %d timed runs.%n", samplers.size(), SamplerRegistry.all().size(), 1,
        REPEATS);
    problem("2-D demo mixture (8 components)", GaussianMixture.demo2d(), n2, samplers);
    problem("16-D mixture (6 components)", mixture16d(), n16, samplers);
  }

  private static void problem(String name, GaussianMixture gm, int n, List<SamplerInfo> samplers) {
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = i;
    }
    GridSpec spec = GridSpec.karras();
    Grid first = spec.build(Edm.DEFAULT, STEPS[0]);
    long t0 = System.nanoTime();
    // Every grid starts at the same σ_max: the exact flow of the seeds' prior draws is the reference.
    SamplerLab.Metric reference = SamplerLab.exact(gm, seeds);
    reference.error(first, new double[n * gm.dim()]);
    System.out.printf(Locale.ROOT, "%n== %s, %d samples (reference PF-ODE solved in %.1f s)%n", name, n,
        (System.nanoTime() - t0) / 1e9);
    System.out.printf(Locale.ROOT, "%-22s %5s %6s %10s %10s %10s%n", "sampler", "steps", "NFE", "RMS error",
        "time ms", "overhead");
    for (SamplerInfo info : samplers) {
      for (int steps : STEPS) {
        Grid g = spec.build(Edm.DEFAULT, steps);
        try {
          Sampling.Result best = null;
          for (int rep = 0; rep <= REPEATS; rep++) {
            Sampling.Result r = Sampling.of(gm.denoiser(), gm.dim()).sampler(info.create(Map.of())).grid(g)
                .seeds(seeds).run();
            if (rep > 0 && (best == null || r.nanos() < best.nanos())) {
              best = r;
            }
          }
          double overhead = (double) (best.nanos() - best.denoiserNanos()) / best.denoiserNanos();
          System.out.printf(Locale.ROOT, "%-22s %5d %6s %10.2e %10.2f %9.1f%%%n", info.id(), steps, best.nfeText(),
              reference.error(g, best.samples()), best.nanos() / 1e6, 100 * overhead);
        } catch (RuntimeException e) {
          System.out.printf(Locale.ROOT, "%-22s %5d  failed: %s%n", info.id(), steps, e.getMessage());
        }
      }
    }
  }
}
