package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.schedule.Grid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code d4j grid}: prints a grid, as a table or as {@code {"sigmas": [...], "timesteps": [...]}}.
 *
 * <p>Timesteps are printed for discrete processes only ({@code --process ddpm}); there the grid's final
 * σ = 0 point has timestep −1 (diffusers' "previous timestep" of the last step, where x0 is returned).
 */
@Command(name = "grid", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Print the grid of σ's (and, for --process ddpm, integer timesteps) that sampling would use.",
        "σ is the relative noise level of x/s(t); the last point is usually σ = 0 (data). With --json the "
            + "output is {\"sigmas\": [...], \"timesteps\": [...]}; \"timesteps\" appears only for discrete "
            + "processes, where σ = 0 has timestep -1. A PNDMScheduler config also prints the timesteps of its "
            + "model calls (\"model_timesteps\"), as diffusers lists them."},
    footer = {"", "Examples:",
        "  d4j grid --process edm --grid karras --steps 5 --json",
        "  d4j grid --process ddpm --grid leading --steps-offset 1 --steps 50 --json",
        "  d4j grid --process ddpm --grid linspace --drop-last --steps 10",
        "  d4j grid --process vp --grid vp --steps 10",
        "  d4j grid --scheduler-config scheduler_config.json --steps 25"})
public final class GridCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ProcessGridOptions options;

  @Option(names = "--json", description = "Print JSON {\"sigmas\": [...], \"timesteps\": [...]} instead of a table.")
  boolean json;

  @Option(names = "--optimize", description = "Fit the grid's interior σ's to --model for --sampler (GridOptimizer: "
      + "median error against the model's own accurate solution from calibration seeds) and --save it by name.")
  boolean optimize;

  @Option(names = "--model", paramLabel = "FILE", description = "--optimize: the Gaussian-mixture model (JSON).")
  java.nio.file.Path model;

  @Option(names = "--sampler", paramLabel = "ID", defaultValue = "unipc",
      description = "--optimize: the deterministic sampler the grid is fitted for (default: ${DEFAULT-VALUE}).")
  String sampler;

  @Option(names = "--param", paramLabel = "NAME=VALUE", description = "--optimize: a sampler parameter (repeatable).")
  java.util.List<String> params = new java.util.ArrayList<>();

  @Option(names = "--save", paramLabel = "NAME", description = "--optimize: save the fitted grid as NAME in --grids-dir.")
  String save;

  @Option(names = "--calibration", paramLabel = "N", defaultValue = "64",
      description = "--optimize: calibration seeds 10000..10000+N-1 (default: ${DEFAULT-VALUE}).")
  int calibration;

  @Option(names = "--evaluations", paramLabel = "N", defaultValue = "200",
      description = "--optimize: budget of sampler runs of the optimiser (default: ${DEFAULT-VALUE}).")
  int evaluations;

  @Override
  public Integer call() throws java.io.IOException {
    PrintWriter w = spec.commandLine().getOut();
    if (optimize) {
      return optimize(w);
    }
    for (String o : new String[] {"--model", "--sampler", "--param", "--save", "--calibration", "--evaluations"}) {
      if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " applies to d4j grid --optimize only");
      }
    }
    Grid g = options.buildGrid(options.process());
    boolean discrete = g.process().isDiscrete();
    org.diffusion4j.schedule.DiffusersScheduler ds = options.scheduler();
    double[] times = new double[g.size()];
    for (int i = 0; i < g.size(); i++) {
      // a diffusers scheduler's own timesteps (one per step); the end point keeps the grid's
      times[i] = ds != null && i < ds.timesteps().length ? ds.timesteps()[i] : g.t(i);
    }
    // PNDM calls the model more often than once per step, at diffusers' own list of timesteps
    double[] calls = ds != null && !java.util.Arrays.equals(ds.modelTimesteps(), ds.timesteps()) ? ds.modelTimesteps()
        : null;
    if (json) {
      StringBuilder sb = new StringBuilder("{\"sigmas\": [");
      for (int i = 0; i < g.size(); i++) {
        sb.append(i == 0 ? "" : ", ").append(Format.json(g.sigma(i)));
      }
      sb.append(']');
      if (discrete) {
        sb.append(", \"timesteps\": [");
        for (int i = 0; i < g.size(); i++) {
          sb.append(i == 0 ? "" : ", ").append(Format.json(times[i]));
        }
        sb.append(']');
      }
      if (calls != null) {
        sb.append(", \"model_timesteps\": [");
        for (int i = 0; i < calls.length; i++) {
          sb.append(i == 0 ? "" : ", ").append(Format.json(calls[i]));
        }
        sb.append(']');
      }
      w.println(sb.append('}'));
      return 0;
    }
    w.println(ProcessGridOptions.describe(g, options.gridOptions().grid()));
    w.printf(Locale.ROOT, "%4s  %14s  %14s  %12s  %14s  %10s%n", "i", discrete ? "timestep" : "t", "sigma", "s",
        "s*sigma", "lambda");
    for (int i = 0; i < g.size(); i++) {
      w.printf(Locale.ROOT, "%4d  %14s  %14s  %12s  %14s  %10s%n", i, Format.num(times[i]), Format.num(g.sigma(i)),
          Format.num(g.s(i)), Format.num(g.sigmaAbs(i)),
          g.sigma(i) == 0 ? "inf" : String.format(Locale.ROOT, "%.4f", g.lambda(i)));
    }
    if (calls != null) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < calls.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(Format.num(calls[i]));
      }
      w.println(ds.className() + " timesteps (one per model call, " + calls.length + " calls): " + sb);
      if (calls[calls.length - 1] == 0 && g.sigma(g.size() - 1) > 0) {
        w.println("(the last call, from timestep 0 to alphas_cumprod[0], leaves x unchanged: it is not made)");
      }
    }
    return 0;
  }

  /** {@code --optimize}: fits the grid to the model and sampler and saves it. */
  private int optimize(PrintWriter w) throws java.io.IOException {
    if (model == null || save == null) {
      throw new IllegalArgumentException("--optimize needs --model FILE and --save NAME");
    }
    org.diffusion4j.sampling.SavedGrid.checkName(save);
    if (calibration < 1 || evaluations < 1) {
      throw new IllegalArgumentException("--calibration and --evaluations must be >= 1, got " + calibration + " and "
          + evaluations);
    }
    org.diffusion4j.analytic.GaussianMixture gm = SampleCommand.readModel(model);
    java.util.Map<String, String> p = org.diffusion4j.sampling.SamplerParams.parseAssignments(params);
    org.diffusion4j.sampling.Sampler s = org.diffusion4j.sampling.SamplerRegistry.create(sampler, p);
    Grid start = options.buildGrid(options.process());
    if (!start.endsAtZero()) {
      throw new IllegalArgumentException("--optimize needs a grid that ends at sigma = 0, got " + start);
    }
    long[] seeds = org.diffusion4j.sampling.Sampling.seedRange(10_000, 10_000 + calibration - 1);
    double[] x0 = org.diffusion4j.sampling.Sampling.prior(start, seeds, gm.dim());
    Grid reference = new org.diffusion4j.schedule.GridSpec.Karras(start.sigma(start.size() - 2), start.sigma(0), 7)
        .build(start.process(), 200);
    long[] shape = {gm.dim()};
    double[] target = org.diffusion4j.sampling.GridOptimizer.targets(gm.denoiser(), shape,
        new org.diffusion4j.sampling.ode.Heun(), reference, x0);
    org.diffusion4j.sampling.GridOptimizer.Result r = org.diffusion4j.sampling.GridOptimizer.optimize(
        gm.denoiser(), shape, s, start, x0, target, evaluations);
    java.util.Map<String, String> prov = new java.util.LinkedHashMap<>();
    prov.put("model", model.toAbsolutePath().toString());
    prov.put("start_grid", options.gridOptions().grid() + " " + start.steps() + " steps");
    prov.put("calibration_seeds", seeds[0] + "-" + seeds[seeds.length - 1]);
    prov.put("reference", "heun on karras 200 steps");
    prov.put("start_error", Double.toString(r.startError()));
    prov.put("error", Double.toString(r.error()));
    prov.put("created", java.time.Instant.now().toString());
    org.diffusion4j.sampling.SavedGrid g = org.diffusion4j.sampling.SavedGrid.of(save, r.grid(), s, p, prov);
    java.nio.file.Path file = g.save(options.gridsDirectory());
    w.printf(Locale.ROOT, "optimised %s, NFE %d, on %s: median error %s -> %s%n", s.id(), g.nfe(),
        ProcessGridOptions.describe(start, options.gridOptions().grid()), Format.num(r.startError()),
        Format.num(r.error()));
    w.printf(Locale.ROOT, "sigmas    %s%n", java.util.Arrays.stream(g.sigmas()).mapToObj(Format::num)
        .collect(java.util.stream.Collectors.joining(" → ")));
    w.printf("saved     %s (use: d4j sample --grid %s)%n", file, save);
    return 0;
  }
}
