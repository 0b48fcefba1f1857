package org.diffusion4j.cli;

import ai.djl.ndarray.types.DataType;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.SampleStats;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code d4j sample}: runs a sampler on a Gaussian mixture's exact denoiser, writes the samples and
 * reports NFE, time and the error against the exact PF-ODE (deterministic samplers) or a distribution
 * check (stochastic samplers).
 */
@Command(name = "sample", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run a sampler on an exact model (a Gaussian mixture) and measure its error.",
        "The initial state is the prior draw x = s_0·σ_0·ε at the grid's first point (ε from --noise or "
            + "from the seeds), or --init. Deterministic samplers are compared with the exact "
            + "probability-flow ODE solved from the grid's first to last σ; stochastic samplers with "
            + "the exact marginal's moments and log-density."},
    footer = {"", "Examples:",
        "  d4j sample --model examples/gmm2d.json --sampler heun --steps 18 --out x.png",
        "  d4j sample --model examples/gmm2d.json --sampler euler \\",
        "      --process vp --grid karras --steps 50 --seeds 0-999 --out x.npy",
        "  d4j sample --model examples/gmm2d.json --sampler heun --process ddpm \\",
        "      --grid trailing --steps 10 --noise eps.npy --trajectory t.npy --out x.npy",
        "", "Model JSON (examples/gmm2d.json):",
        "  {\"type\": \"gaussian-mixture\", \"weights\": [0.5, 0.3, 0.2],",
        "   \"means\": [[-1.0, 0.5], [1.2, -0.4], [0.2, 1.5]], \"stds\": [0.3, 0.5, 0.2]}"})
public final class SampleCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE|RUN",
      description = "Model: a gaussian-mixture JSON (exact denoiser; see the example below), or a run "
          + "directory written by 'd4j train' (its EMA weights; its process is the default --process), or a "
          + "diffusers UNet2DModel directory (or its unet/).")
  Path model;

  @Option(names = "--weights", paramLabel = "KIND", defaultValue = "ema",
      description = "For a run: ema or raw weights (default: ${DEFAULT-VALUE}).")
  String weights;

  @Option(names = "--class", paramLabel = "K|all",
      description = "For a class-conditional run: the class to sample (default: the null label, unconditional); "
          + "all: every class, the seeds once per class (a PNG then has one row per class).")
  String classText;

  /** The parsed --class K (null for none or all). */
  Integer classLabel;

  /** --class all. */
  boolean allClasses;

  /** Parses --class into {@link #classLabel} / {@link #allClasses}. */
  void parseClass() {
    classLabel = null;
    allClasses = false;
    if (classText == null) {
      return;
    }
    if (classText.trim().equalsIgnoreCase("all")) {
      allClasses = true;
      return;
    }
    try {
      classLabel = Integer.parseInt(classText.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--class '" + classText + "': give a class number or all");
    }
  }

  @Option(names = "--sampler", paramLabel = "ID",
      description = "Sampler identifier; 'd4j samplers' lists them all (default: auto, the best measured sampler "
          + "and step schedule for NFE = --steps; runs of few-step models default to their own flow-map sampler).")
  String sampler;

  @Option(names = "--out", required = true, paramLabel = "FILE",
      description = "Output: .npy (final samples in data scale, shape [n, …]), .png (2-D: samples over the "
          + "model's density or as a scatter; images: a grid), or, for image runs, a directory (one PNG per seed).")
  Path out;

  @Mixin
  ProcessGridOptions grid;

  @Mixin
  SteeringOptions steering;

  @Option(names = "--noise", paramLabel = "FILE",
      description = "Standard-normal ε as .npy [n, d] (float32/float64); the initial state is x = s_0·σ_0·ε.")
  Path noiseFile;

  @Option(names = "--init", paramLabel = "FILE",
      description = "The initial state itself as .npy [n, d], in the process's coordinates at the first grid "
          + "point (what a diffusers user passes as latents).")
  Path initFile;

  @Option(names = "--seeds", paramLabel = "LIST",
      description = "Per-sample seeds, ranges and lists such as 0-63 or 1,2,5-10; sample k depends only on "
          + "seed k (default: 0-63, or 0..n-1 with --noise/--init).")
  String seeds;

  @Option(names = "--batch", paramLabel = "B",
      description = "Samples per batch, >= 1; the output does not depend on it (default: all in one batch).")
  Integer batch;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
      description = "Workers sharing the batches: threads on a CPU, one per GPU with --device gpu; the output does not "
          + "change (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--dtype", paramLabel = "TYPE", defaultValue = "float64",
      description = "Integration precision: float64 or float32 (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(names = "--param", paramLabel = "NAME=VALUE",
      description = "Sampler hyper-parameter, repeatable (e.g. --param eta=1); 'd4j samplers' lists them.")
  List<String> params = new ArrayList<>();

  @Option(names = "--no-check", description = "Skip the comparison with the exact model (it costs an exact ODE solve "
      + "per checked sample).")
  boolean noCheck;

  @Option(names = "--check-samples", paramLabel = "N", defaultValue = "2000",
      description = "Compare at most the first N samples with the exact model, >= 1 (default: ${DEFAULT-VALUE}).")
  int checkSamples;

  @Option(names = "--timestep-mapping", paramLabel = "KIND",
      description = "For a diffusers model: how σ becomes its timestep: continuous (log σ interpolated, default), "
          + "rounded (DPMSolverMultistep with Karras σ's) or linear (σ interpolated, Euler-type schedulers; the "
          + "default with --fractional).")
  String timestepMapping;

  @Option(names = "--mid", split = ",", paramLabel = "σ[,σ…]",
      description = {"Intermediate noise levels of a few-step run's grid: --steps − 1 of them, decreasing, inside "
          + "(0, σ_max); the grid is σ_max → mids → 0 (default: the run's own, e.g. σ_d·tan 1.1 for two-step sCM, "
          + "Lu & Song 2024; Karras ρ = 7 levels for other consistency runs). Song et al. (2023) tune this per data "
          + "set; d4j eval --mid compares choices."})
  java.util.List<Double> mids;

  /** {@code --mid} as an array, or null. */
  double[] midLevels() {
    return mids == null ? null : mids.stream().mapToDouble(Double::doubleValue).toArray();
  }

  @Option(names = "--trajectory", paramLabel = "FILE",
      description = "Also write every grid point's state as .npy [steps+1, n, d] in process coordinates.")
  Path trajectoryFile;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    parseClass();
    boolean diffusers = Files.isDirectory(model)
        && org.diffusion4j.train.nn.diffusers.DiffusersModel.isModelDir(model);
    if (!diffusers && timestepMapping != null) {
      throw new IllegalArgumentException("--timestep-mapping applies to diffusers model directories only");
    }
    if (diffusers) {
      return new DiffusersSampling(this).call(w);
    }
    if (Files.isDirectory(model)) {
      // A run without --sampler: few-step runs use their own sampler, others are refused there.
      return new RunSampling(this).call(w);
    }
    if (steering.given()) {
      throw new IllegalArgumentException("--guidance, --inpaint, --sdedit and --threshold steer a trained run "
          + "(--model RUN); " + model + " is an exact model");
    }
    // Check everything before any work, so that a bad input leaves no file behind.
    String outKind = kind(out, "--out", "npy", "png");
    if (trajectoryFile != null) {
      kind(trajectoryFile, "--trajectory", "npy");
    }
    checkOutputs();
    for (String o : new String[] {"--class", "--weights", "--mid"}) {
      if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " applies to trained runs" + (o.equals("--mid") ? " of few-step models"
            : "") + "; " + model + " is a Gaussian-mixture model");
      }
    }
    DataType type = parseDtype(dtype);
    GaussianMixture gm = readModel(model);
    if (outKind.equals("png") && gm.dim() != 2) {
      throw new IllegalArgumentException("--out " + out + ": a PNG needs a 2-D model, this one is " + gm.dim()
          + "-D; use .npy");
    }
    org.diffusion4j.schedule.DiffusersScheduler ds = grid.scheduler();
    // A saved grid brings the sampler it was fitted for (unless --sampler is given).
    org.diffusion4j.sampling.SavedGrid saved = grid.savedGrid();
    Sampler s = ds != null ? ds.sampler() : sampler == null && saved != null && params.isEmpty() ? saved.createSampler()
        : SamplerRegistry.create(sampler == null ? "auto" : sampler, SamplerParams.parseAssignments(params));
    SamplerInfo info = SamplerRegistry.get(s.id());
    NoiseProcess process = grid.process();
    Grid g = grid.buildGrid(process);
    if (noiseFile != null && initFile != null) {
      throw new IllegalArgumentException("give --noise or --init, not both");
    }
    double[] given = noiseFile != null ? readStates(noiseFile, "--noise", gm.dim())
        : initFile != null ? readStates(initFile, "--init", gm.dim()) : null;
    long[] seedList = seeds(given == null ? -1 : given.length / gm.dim());
    int n = seedList.length;
    int b = batch == null ? n : batch;
    if (b < 1) {
      throw new IllegalArgumentException("--batch must be >= 1, got " + b);
    }
    if (checkSamples < 1) {
      throw new IllegalArgumentException("--check-samples must be >= 1, got " + checkSamples);
    }
    Workers.check(workers);
    Sampling run = Sampling.of(ds != null ? ds.denoiser(gm.denoiser()) : gm.denoiser(), gm.dim()).sampler(s).grid(g)
        .seeds(seedList).batch(b).dtype(type)
        .trajectory(trajectoryFile != null).workers(workers);
    if (initFile != null) {
      run.initial(given);
    } else if (ds != null) {
      // diffusers' initial latents: init_noise_sigma·z, in process coordinates initialScale·z
      double[] x0 = noiseFile != null ? given.clone() : Sampling.prior(g, seedList, gm.dim());
      double c = noiseFile != null ? ds.initialScale() : ds.initialScale() / (g.s(0) * g.sigma(0));
      for (int i = 0; i < x0.length; i++) {
        x0[i] *= c;
      }
      run.initial(x0);
    } else if (noiseFile != null) {
      run.noise(given);
    }
    SamplingProgress progress = new SamplingProgress(spec.commandLine().getErr(), (n + b - 1) / b, g.steps());
    Sampling.Result r;
    try {
      r = run.listener(progress).run();
    } finally {
      progress.done();
    }
    int last = g.size() - 1;
    double[] xHat = r.samples();
    w.printf(Locale.ROOT, "%s (%s) on %s, %d samples, %s, batch %d%n", info.id(), s.stochastic() ? "SDE" : "ODE",
        ProcessGridOptions.describe(g, grid.gridOptions().grid()), n, dtype.toLowerCase(Locale.ROOT), b);
    if (s instanceof org.diffusion4j.sampling.AutoSampler) {
      org.diffusion4j.sampling.AutoSampler.Choice pick = org.diffusion4j.sampling.AutoSampler.choose(g);
      w.printf(Locale.ROOT, "auto      %s on σ %s%n", pick.sampler().id(), java.util.Arrays.stream(pick.grid().sigmas())
          .mapToObj(Format::num).collect(java.util.stream.Collectors.joining(" → ")));
    }
    statsNote(w, s);
    w.printf(Locale.ROOT, "NFE       %s%s%n", r.nfeText(), Format.depth(r));
    w.printf(Locale.ROOT, "time      %.3f s%n", r.nanos() / 1e9);
    int checked = Math.min(n, checkSamples);
    String of = checked < n ? String.format(Locale.ROOT, " (first %d of %d samples)", checked, n) : "";
    if (noCheck) {
      w.printf("check     skipped (--no-check)%n");
    } else if (!s.stochastic()) {
      double[] x0 = initial(g, given, seedList, gm.dim());
      double[] ref = ExactCheck.reference(gm, g, x0, checked);
      double[] mine = ExactCheck.first(xHat, gm.dim(), checked);
      w.printf(Locale.ROOT, "error     RMS %s, max %s against the exact PF-ODE from σ %s to %s%s%n",
          Format.sci(SampleStats.rms(mine, ref)), Format.sci(SampleStats.maxAbs(mine, ref)),
          Format.num(g.sigma(0)), Format.num(g.sigma(last)), of);
    } else {
      long[] first = java.util.Arrays.copyOf(seedList, checked);
      distributionCheck(w, gm, ExactCheck.first(xHat, gm.dim(), checked), first, g.sigma(last));
    }
    boolean float32 = type == DataType.FLOAT32;
    if (outKind.equals("png")) {
      double[] view = DensityPlot.defaultView(gm, g.sigma(last));
      String title = String.format(Locale.ROOT, "%s · %d steps · NFE %s", info.id(), g.steps(), r.nfeText());
      byte[] png = DensityPlot.png(new DensityPlot(gm, g.sigma(last), view)
          .panel(title, xHat, Color.WHITE, null, null));
      AtomicFiles.write(out, png);
    } else {
      Npy.write(out, xHat, new long[] {n, gm.dim()}, float32);
    }
    w.printf("wrote     %s [%d, %d]%n", out, n, gm.dim());
    if (trajectoryFile != null) {
      Npy.write(trajectoryFile, r.trajectory(), new long[] {g.size(), n, gm.dim()}, float32);
      w.printf("wrote     %s [%d, %d, %d] (process coordinates)%n", trajectoryFile, g.size(), n, gm.dim());
    }
    return 0;
  }

  /** The initial states a run starts from: given, or the prior draw s_0·σ_0·ε of the seeds (as {@link Sampling} draws it). */
  private double[] initial(Grid g, double[] given, long[] seedList, int d) {
    if (initFile != null) {
      return given;
    }
    if (noiseFile == null) {
      return Sampling.prior(g, seedList, d);
    }
    double c = g.s(0) * g.sigma(0);
    double[] x = new double[given.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = c * given[i];
    }
    return x;
  }

  /**
   * For a network model: {@code dir} (an --out without extension: one PNG per seed), {@code npy} or {@code png};
   * --trajectory, if given, must be a different .npy.
   */
  String modelOutputKind() {
    String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
    String k = name.contains(".") ? kind(out, "--out", "npy", "png") : "dir";
    if (trajectoryFile != null) {
      kind(trajectoryFile, "--trajectory", "npy");
    }
    checkOutputs();
    return k;
  }

  /** --out and --trajectory must be different files, and neither an existing directory. */
  void checkOutputs() {
    if (trajectoryFile != null
        && out.toAbsolutePath().normalize().equals(trajectoryFile.toAbsolutePath().normalize())) {
      throw new IllegalArgumentException("--trajectory " + trajectoryFile + " is the same file as --out; give two paths");
    }
    if (Files.isDirectory(out) && out.getFileName().toString().contains(".")) {
      throw new IllegalArgumentException("--out " + out + " is a directory; give a file name");
    }
  }

  /** Mean and std per dimension and mean log-density, against the exact marginal p_σ. */
  static void distributionCheck(PrintWriter w, GaussianMixture gm, double[] xHat, long[] seeds, double sigma) {
    int d = gm.dim();
    double[] m = SampleStats.mean(xHat, d);
    double[] sd = SampleStats.std(xHat, d);
    double[] em = gm.mean();
    double[] ev = gm.variance(sigma);
    w.printf(Locale.ROOT, "distribution check against the exact p_σ at σ = %s (stochastic sampler, n = %d):%n",
        Format.num(sigma), seeds.length);
    w.printf(Locale.ROOT, "  dim        mean  exact mean         std   exact std%n");
    int shown = Math.min(d, 8);
    for (int j = 0; j < shown; j++) {
      w.printf(Locale.ROOT, "  %3d  %10.4f  %10.4f  %10.4f  %10.4f%n", j, m[j], em[j], sd[j], Math.sqrt(ev[j]));
    }
    if (shown < d) {
      w.printf(Locale.ROOT, "  (first %d of %d dimensions)%n", shown, d);
    }
    double lpSamples = SampleStats.average(gm.logDensity(xHat, sigma));
    double lpExact = SampleStats.average(gm.logDensity(gm.sample(seeds, sigma), sigma));
    w.printf(Locale.ROOT, "  mean log p_σ: samples %.4f, exact samples %.4f%n", lpSamples, lpExact);
  }

  long[] seeds(int rows) {
    if (seeds == null) {
      int n = rows < 0 ? 64 : rows;
      long[] s = new long[n];
      for (int i = 0; i < n; i++) {
        s[i] = i;
      }
      return s;
    }
    long[] s = SeededNoise.parseSeeds(seeds);
    if (rows >= 0 && s.length != rows) {
      throw new IllegalArgumentException("--seeds " + seeds + " gives " + s.length + " seeds but "
          + (noiseFile != null ? "--noise" : "--init") + " has " + rows + " rows; give one seed per row or "
          + "leave --seeds out");
    }
    return s;
  }

  static DataType parseDtype(String v) {
    switch (v.toLowerCase(Locale.ROOT)) {
      case "float64":
        return DataType.FLOAT64;
      case "float32":
        return DataType.FLOAT32;
      default:
        throw new IllegalArgumentException("unknown --dtype '" + v + "'; accepted: float64, float32");
    }
  }

  /** The file's extension, which must be one of {@code accepted}. */
  /** For dpm-solver-v3: which statistics it runs with (and, without a file, how to make one). */
  static void statsNote(java.io.PrintWriter w, org.diffusion4j.sampling.Sampler s) {
    if (s instanceof org.diffusion4j.sampling.ode.DpmSolverV3 v3) {
      w.printf(Locale.ROOT, "stats     %s%s%n", v3.stats().source(), v3.stats().isConstant()
          ? " (no statistics file given; estimate the model's with d4j stats and pass --param stats=FILE)"
          : " (" + v3.statsName() + ")");
    }
  }

  static String kind(Path file, String option, String... accepted) {
    String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
    for (String a : accepted) {
      if (name.endsWith("." + a)) {
        return a;
      }
    }
    throw new IllegalArgumentException(option + " " + file + " must end in ." + String.join(" or .", accepted));
  }

  /** Reads a gaussian-mixture model JSON file; errors name the option, the file and the field. */
  static GaussianMixture readModel(Path file) throws IOException {
    try {
      return GaussianMixture.read(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--model " + e.getMessage());
    }
  }

  /** Reads n·d states from a .npy of shape [n, d]. */
  static double[] readStates(Path file, String option, int dim) throws IOException {
    NpyArray a;
    try {
      a = Npy.read(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + " " + e.getMessage());
    }
    long[] sh = a.shape();
    if (sh.length != 2 || sh[1] != dim || sh[0] < 1) {
      throw new IllegalArgumentException(option + " " + file + " has shape " + a.shapeText() + "; expected [n, "
          + dim + "] (n >= 1) for this " + dim + "-D model");
    }
    if (!a.dtype().endsWith("f4") && !a.dtype().endsWith("f8")) {
      throw new IllegalArgumentException(option + " " + file + " has dtype " + a.dtype()
          + "; accepted: float32, float64");
    }
    for (int i = 0; i < a.data().length; i++) {
      if (!Double.isFinite(a.data()[i])) {
        throw new IllegalArgumentException(option + " " + file + " holds a non-finite value at flat index " + i);
      }
    }
    return a.data();
  }
}
