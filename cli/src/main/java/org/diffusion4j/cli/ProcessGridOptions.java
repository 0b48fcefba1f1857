package org.diffusion4j.cli;

import java.util.List;
import java.util.Locale;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.process.SubVp;
import org.diffusion4j.process.VpCosine;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridOptions;
import org.diffusion4j.schedule.GridSpec;
import picocli.CommandLine.Option;

/**
 * The process and grid options shared by {@code d4j sample} and {@code d4j grid}. An option that the
 * chosen process or grid does not use is an error (rather than silently ignored).
 */
public final class ProcessGridOptions {
  @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
  picocli.CommandLine.Model.CommandSpec mixee;

  @Option(names = "--scheduler-config", paramLabel = "FILE",
      description = "A diffusers scheduler_config.json: its process, grid (for --steps) and sampler replace "
          + "--process/--grid/--sampler; options it sets that are not supported are errors.")
  java.nio.file.Path schedulerConfig;

  private org.diffusion4j.schedule.DiffusersScheduler scheduler;

  /** The diffusers scheduler of {@code --scheduler-config} for {@code --steps}, or null without it. */
  public org.diffusion4j.schedule.DiffusersScheduler scheduler() {
    if (schedulerConfig == null) {
      return null;
    }
    if (scheduler == null) {
      for (String o : new String[] {"--process", "--grid", "--sigma-min", "--sigma-max", "--rho", "--drop-last", "--fractional",
          "--steps-offset", "--beta-min", "--beta-max", "--t-min", "--train-steps", "--betas", "--beta-start",
          "--beta-end", "--sampler", "--param"}) {
        if (mixee != null && mixee.commandLine().getParseResult().hasMatchedOption(o)) {
          throw new IllegalArgumentException(o + " does not combine with --scheduler-config (the config sets it)");
        }
      }
      if (steps < 1) {
        throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
      }
      String text;
      try {
        text = java.nio.file.Files.readString(schedulerConfig);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--scheduler-config " + schedulerConfig + ": cannot read: " + e.getMessage());
      }
      scheduler = org.diffusion4j.schedule.DiffusersScheduler.fromJson(text, schedulerConfig.toString(), steps);
    }
    return scheduler;
  }

  @Option(names = "--process", paramLabel = "ID", defaultValue = "edm",
      description = "Forward process: edm, ve, vp, vp-cosine, subvp, flow, trig, ddpm (default: ${DEFAULT-VALUE}).")
  String process;

  @Option(names = "--grids-dir", paramLabel = "DIR",
      description = "Where saved grids are looked up and saved (default: $D4J_GRIDS, else ~/.d4j/grids).")
  java.nio.file.Path gridsDir;

  private org.diffusion4j.sampling.SavedGrid saved;

  /** The saved grid named by {@code --grid NAME} or {@code --grid file:PATH}, or null for a grid family. */
  public org.diffusion4j.sampling.SavedGrid savedGrid() {
    String g = grid.toLowerCase(Locale.ROOT);
    if (GridSpec.IDS.contains(g) || scheduler() != null) {
      return null;
    }
    if (saved == null) {
      try {
        saved = org.diffusion4j.sampling.SavedGrid.resolve(grid, gridsDirectory());
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("--grid " + grid + ": cannot read: " + e.getMessage());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--grid " + grid + " is neither a grid (" + String.join(", ", GridSpec.IDS)
            + ") nor a saved grid: " + e.getMessage());
      }
      for (String o : new String[] {"--sigma-min", "--sigma-max", "--rho", "--drop-last", "--fractional",
          "--steps-offset"}) {
        if (mixee != null && mixee.commandLine().getParseResult().hasMatchedOption(o)) {
          throw new IllegalArgumentException(o + " does not combine with the saved grid " + saved.name());
        }
      }
      if (mixee != null && mixee.commandLine().getParseResult().hasMatchedOption("--steps")
          && steps != saved.sigmas().length - 1) {
        throw new IllegalArgumentException("--steps " + steps + " differs from the saved grid " + saved.name() + "'s "
            + (saved.sigmas().length - 1) + " steps (omit --steps)");
      }
    }
    return saved;
  }

  /** The grids directory: {@code --grids-dir}, else {@code $D4J_GRIDS}, else {@code ~/.d4j/grids}. */
  public java.nio.file.Path gridsDirectory() {
    return org.diffusion4j.sampling.SavedGrid.directory(gridsDir);
  }

  @Option(names = "--grid", paramLabel = "ID", defaultValue = "karras",
      description = "Grid: a saved grid's NAME (in --grids-dir) or file:PATH, or karras, exponential, polyexponential, vp, lambda (σ-grids), vp-uniform, vp-quadratic "
          + "(uniform in t or √t from t_max to the process's t_min, no final zero: DPM-Solver's time_uniform and "
          + "time_quadratic) or leading, trailing, linspace (discrete timesteps, --process ddpm) "
          + "(default: ${DEFAULT-VALUE}).")
  String grid;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "18",
      description = "Number of intervals N of the grid, >= 1 (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--sigma-min", paramLabel = "σ",
      description = "Smallest nonzero σ of a σ-grid, > 0 (default: the process's σ(t_min), e.g. 0.002 for edm).")
  Double sigmaMin;

  @Option(names = "--sigma-max", paramLabel = "σ",
      description = "Largest σ of a σ-grid, > sigma-min (default: the process's σ(t_max), e.g. 80 for edm).")
  Double sigmaMax;

  @Option(names = "--rho", paramLabel = "ρ",
      description = "ρ of the karras grid (default 7) or polyexponential grid (default 1), > 0.")
  Double rho;

  @Option(names = "--drop-last",
      description = "leading/linspace: place N+1 timesteps and drop the last, as diffusers' multistep "
          + "schedulers (DPMSolverMultistep, DEIS, UniPC) do.")
  boolean dropLast;

  @Option(names = "--fractional",
      description = "linspace: keep linspace(0, T−1, N)'s fractional timesteps and interpolate σ linearly in t, as "
          + "diffusers' Euler, Heun and LMS schedulers do (interpolation_type linear); a diffusers model is then "
          + "told those timesteps (--timestep-mapping linear unless given).")
  boolean fractional;

  @Option(names = "--steps-offset", paramLabel = "K",
      description = "Added to leading timesteps (Stable Diffusion uses 1; default 0).")
  Integer stepsOffset;

  @Option(names = "--beta-min", paramLabel = "β",
      description = "β_min of vp/subvp and of the vp grid (default 0.1).")
  Double betaMin;

  @Option(names = "--beta-max", paramLabel = "β",
      description = "β_max of vp/subvp and of the vp grid (default 20).")
  Double betaMax;

  @Option(names = "--t-min", paramLabel = "T",
      description = "Smallest sampling time ε_s of vp/subvp/vp-cosine and of the vp grid (default 1e-3).")
  Double tMin;

  @Option(names = "--train-steps", paramLabel = "N",
      description = "ddpm: number of training timesteps (default 1000).")
  Integer trainSteps;

  @Option(names = "--betas", paramLabel = "NAME",
      description = "ddpm: linear, scaled_linear or squaredcos_cap_v2 (default linear).")
  String betas;

  @Option(names = "--beta-start", paramLabel = "β", description = "ddpm: first β (default 1e-4).")
  Double betaStart;

  @Option(names = "--beta-end", paramLabel = "β", description = "ddpm: last β (default 0.02).")
  Double betaEnd;

  private static final List<String> SIGMA_GRIDS = List.of("karras", "exponential", "polyexponential", "lambda");
  private static final List<String> TIMESTEP_GRIDS = List.of("leading", "trailing", "linspace");

  /** The forward process the options describe. */
  public NoiseProcess process() {
    if (scheduler() != null) {
      return scheduler().process();
    }
    String p = process.toLowerCase(Locale.ROOT);
    Processes.byId(p);
    boolean vpType = p.equals("vp") || p.equals("subvp");
    String g = grid.toLowerCase(Locale.ROOT);
    if (!vpType && !g.equals("vp")) {
      reject(betaMin, "--beta-min", "--process vp, subvp or --grid vp");
      reject(betaMax, "--beta-max", "--process vp, subvp or --grid vp");
    }
    if (!vpType && !p.equals("vp-cosine") && !g.equals("vp")) {
      reject(tMin, "--t-min", "--process vp, subvp, vp-cosine or --grid vp");
    }
    if (!p.equals("ddpm")) {
      for (Object[] o : new Object[][] {{trainSteps, "--train-steps"}, {betas, "--betas"},
          {betaStart, "--beta-start"}, {betaEnd, "--beta-end"}}) {
        reject(o[0], (String) o[1], "--process ddpm");
      }
    }
    double bMin = or(betaMin, 0.1);
    double bMax = or(betaMax, 20);
    double t0 = or(tMin, 1e-3);
    switch (p) {
      case "vp":
        return new VpLinear(bMin, bMax, t0);
      case "subvp":
        return new SubVp(bMin, bMax, t0);
      case "vp-cosine":
        return new VpCosine(VpCosine.DEFAULT.offset(), t0, VpCosine.DEFAULT.tMaxValue());
      case "ddpm":
        return DiscreteDdpm.of(trainSteps == null ? 1000 : trainSteps, betas == null ? "linear" : betas,
            or(betaStart, 1e-4), or(betaEnd, 0.02));
      default:
        return Processes.byId(p);
    }
  }

  /** The grid options, checked for options the grid does not use. */
  public GridOptions gridOptions() {
    if (savedGrid() != null) {
      return new GridOptions("saved " + savedGrid().name(), Double.NaN, Double.NaN, Double.NaN, 0.1, 20, 1e-3, 0,
          false);
    }
    if (scheduler() != null) {
      return new GridOptions(scheduler().className(), Double.NaN, Double.NaN, Double.NaN, 0.1, 20, 1e-3, 0, false);
    }
    String g = grid.toLowerCase(Locale.ROOT);
    if (!GridSpec.IDS.contains(g)) {
      throw new IllegalArgumentException(
          "unknown grid '" + grid + "'; accepted: " + String.join(", ", GridSpec.IDS));
    }
    if (!SIGMA_GRIDS.contains(g)) {
      reject(sigmaMin, "--sigma-min", "--grid karras, exponential, polyexponential or lambda");
      reject(sigmaMax, "--sigma-max", "--grid karras, exponential, polyexponential or lambda");
    }
    if (!g.equals("karras") && !g.equals("polyexponential")) {
      reject(rho, "--rho", "--grid karras or polyexponential");
    }
    if (!g.equals("leading")) {
      reject(stepsOffset, "--steps-offset", "--grid leading");
    }
    if (dropLast && !TIMESTEP_GRIDS.contains(g)) {
      throw new IllegalArgumentException("--drop-last applies to --grid leading, trailing or linspace only, not "
          + g);
    }
    if (fractional && (!g.equals("linspace") || dropLast)) {
      throw new IllegalArgumentException("--fractional applies to --grid linspace (without --drop-last) only, not "
          + g + (dropLast ? " --drop-last" : ""));
    }
    if (sigmaMin != null && !(sigmaMin > 0)) {
      throw new IllegalArgumentException("--sigma-min must be a finite number > 0, got " + sigmaMin);
    }
    if (sigmaMax != null && !(sigmaMax > 0)) {
      throw new IllegalArgumentException("--sigma-max must be a finite number > 0, got " + sigmaMax);
    }
    if (rho != null && !(rho > 0)) {
      throw new IllegalArgumentException("--rho must be a finite number > 0, got " + rho);
    }
    return new GridOptions(g, or(sigmaMin, Double.NaN), or(sigmaMax, Double.NaN), or(rho, Double.NaN),
        or(betaMin, 0.1), or(betaMax, 20), or(tMin, 1e-3), stepsOffset == null ? 0 : stepsOffset, dropLast, fractional);
  }

  /** Whether {@code --fractional} was given. */
  public boolean fractional() {
    return fractional;
  }

  /** The grid of {@code --steps} intervals on the process. */
  public Grid buildGrid(NoiseProcess p) {
    if (scheduler() != null) {
      return scheduler().grid();
    }
    if (savedGrid() != null) {
      return savedGrid().grid(p);
    }
    if (steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    return gridOptions().spec().build(p, steps);
  }

  /** A one-line description, e.g. {@code karras grid (ρ 7), 18 steps, σ 80 → 0 on edm}. */
  public static String describe(Grid g, String gridId) {
    return String.format(Locale.ROOT, "%s grid, %d steps, σ %s → %s on %s", gridId, g.steps(),
        Format.num(g.sigma(0)), Format.num(g.sigma(g.size() - 1)), g.process().id());
  }

  private static void reject(Object value, String option, String where) {
    if (value != null) {
      throw new IllegalArgumentException(option + " " + value + " has no effect here; it applies to " + where);
    }
  }

  private static double or(Double v, double dflt) {
    return v == null ? dflt : v;
  }
}
