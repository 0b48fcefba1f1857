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

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
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
}
