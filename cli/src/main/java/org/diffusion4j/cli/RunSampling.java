package org.diffusion4j.cli;

import org.diffusion4j.train.distill.FlowMapRuns;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.sampling.Sampling;

/** {@code d4j sample --model RUN}: any sampler on a trained network. */
final class RunSampling {
  private final SampleCommand c;

  RunSampling(SampleCommand c) {
    this.c = c;
  }

  int call(PrintWriter w) throws IOException {
    // Check the inputs before any work.
    String kind = c.modelOutputKind();
    DataType type = SampleCommand.parseDtype(c.dtype);
    boolean ema = switch (c.weights.toLowerCase(Locale.ROOT)) {
      case "ema" -> true;
      case "raw" -> false;
      default -> throw new IllegalArgumentException("unknown --weights '" + c.weights + "'; accepted: ema, raw");
    };
    if (c.noiseFile != null || c.initFile != null) {
      throw new IllegalArgumentException("--noise/--init are for exact models; a run draws its noise from --seeds");
    }
    Workers.check(c.workers);
    try (TrainedModel tm = TrainedModel.load(c.model, ema); Workers team = new Workers()) {
      RunConfig rc = tm.config();
      if (org.diffusion4j.train.transport.FlowSpec.handles(rc.objective())) {
        org.diffusion4j.train.transport.FlowSpec flow = org.diffusion4j.train.transport.Reflow.specOf(c.model);
        if (flow.oneStep() || !(flow.gaussianSource() && flow.conditionalPath().isRectified())) {
          return transport(tm, flow, kind, type, w);
        }
      }
      boolean flowMap = FlowMapRuns.isFlowMap(rc.objective());
      if (c.sampler != null && FlowMapRuns.oneTime(rc.objective())) {
        throw new IllegalArgumentException("run " + c.model + " (objective " + rc.objective() + ") is a consistency "
            + "model: its D(x̂; σ) is the jump to the data, not a denoiser, so --sampler " + c.sampler + " would take "
            + "wrong ODE steps; omit --sampler to use its own multistep consistency sampler (--steps 1|2|4)");
      }
      // --scheduler-config: the diffusers scheduler's process, grid and sampler on the run's denoiser D(x̂; σ).
      org.diffusion4j.schedule.DiffusersScheduler ds = c.grid.scheduler();
      if (ds != null && flowMap) {
        throw new IllegalArgumentException("--scheduler-config does not apply to the few-step run " + c.model
            + " (objective " + rc.objective() + "), which samples with its own flow-map sampler");
      }
      // Without --sampler: few-step runs use their own sampler, others auto.
      String samplerId = ds != null ? ds.sampler().id() + " (" + ds.className() + ")"
          : c.sampler == null ? (flowMap ? "flowmap" : "auto") : c.sampler;
      org.diffusion4j.sampling.SavedGrid saved = c.grid.savedGrid();
      if (saved != null && c.sampler == null && !flowMap && c.params.isEmpty()) {
        samplerId = saved.sampler(); // a saved grid brings the sampler it was fitted for
      }
      Sampler sampler = ds != null ? ds.sampler() : c.sampler == null && flowMap ? FlowMapRuns.sampler(rc)
          : saved != null && c.sampler == null && c.params.isEmpty() ? saved.createSampler()
          : SamplerRegistry.get(samplerId).create(SamplerParams.parseAssignments(c.params));
      long[] shape = rc.sampleShape();
      boolean images = shape.length == 3;
      boolean twoD = shape.length == 1 && shape[0] == 2;
      if (kind.equals("dir") && !images) {
        throw new IllegalArgumentException("--out " + c.out + ": a directory of PNGs needs an image model; use .npy or .png");
      }
      if (kind.equals("png") && !images && !twoD) {
        throw new IllegalArgumentException("--out " + c.out + ": a PNG needs a 2-D or image model, this one has shape "
            + java.util.Arrays.toString(shape) + "; use .npy");
      }
      boolean processGiven = c.spec.commandLine().getParseResult().hasMatchedOption("--process");
      NoiseProcess process = ds != null ? ds.process() : processGiven ? c.grid.process() : rc.process();
      // A few-step model on its own sampler: --steps N levels from σ_max to 0 (no step spent below σ_min).
      if (c.mids != null && !(c.sampler == null && flowMap)) {
        throw new IllegalArgumentException("--mid sets the levels of a few-step run's own grid; " + (flowMap
            ? "with --sampler " + c.sampler + " the grid is --grid's" : "run " + c.model + " (objective "
            + rc.objective() + ") is not a few-step model: use --grid"));
      }
      Grid grid = c.sampler == null && flowMap ? FlowMapRuns.grid(rc, process, c.grid.steps, c.midLevels())
          : c.grid.buildGrid(process);
      long[] seeds = c.seeds(-1);
      int b = c.batch == null ? Math.min(seeds.length, images ? 64 : 4096) : c.batch;
      if (b < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + b);
      }
      java.util.List<Integer> runs = new java.util.ArrayList<>();
      if (c.allClasses) {
        if (rc.classes() == 0 && c.steering.classifier == null) {
          throw new IllegalArgumentException("--class all needs a class-conditional run (or --classifier); run "
              + c.model + " is unconditional");
        }
        int k = rc.classes() > 0 ? rc.classes()
            : org.diffusion4j.train.guidance.ClassifierRun.classesOf(c.steering.classifier);
        for (int j = 0; j < k; j++) {
          runs.add(j);
        }
      } else {
        runs.add(c.classLabel);
      }
      boolean strength = c.spec.commandLine().getParseResult().hasMatchedOption("--strength");
      double[] stored = null;
      double[] trajectory = null;
      Sampling.Result r = null;
      SteeringOptions.Plan steer = null;
      Grid fullGrid = grid;
      for (Integer label : runs) {
        steer = c.steering.plan(flowMap ? FlowMapRuns.model(tm) : tm.denoiser(), rc.classes(), rc.scaling(), shape,
            seeds, label, fullGrid, strength);
        grid = steer.grid();
        Sampling run = Sampling.of(ds != null ? ds.denoiser(steer.model()) : steer.model(), shape).sampler(sampler)
            .grid(grid).seeds(seeds).batch(b).dtype(type).trajectory(c.trajectoryFile != null)
            .conditioning(steer.conditioning());
        if (steer.initial() != null) {
          run.initial(steer.initial());
        } else if (ds != null) {
          // diffusers' initial latents init_noise_sigma·z, in process coordinates.
          double[] x0 = Sampling.prior(grid, seeds, Math.toIntExact(java.util.Arrays.stream(shape)
              .reduce(1, (a, v) -> a * v)));
          double scale = ds.initialScale() / (grid.s(0) * grid.sigma(0));
          for (int i = 0; i < x0.length; i++) {
            x0[i] *= scale;
          }
          run.initial(x0);
        }
        team.apply(run, c.workers, steer.model(), c.model, ema, !steer.notes().isEmpty(),
            copy -> flowMap ? FlowMapRuns.model(copy) : copy.denoiser());
        SamplingProgress progress = new SamplingProgress(c.spec.commandLine().getErr(), (seeds.length + b - 1) / b,
            grid.steps());
        try {
          r = run.listener(progress).run();
        } finally {
          progress.done();
          c.steering.close();
        }
        stored = stored == null ? r.samples() : concat(stored, r.samples());
        if (c.trajectoryFile != null) {
          trajectory = trajectory == null ? r.trajectory() : concat(trajectory, r.trajectory());
        }
      }
      int count = seeds.length * runs.size();
      w.printf(Locale.ROOT, "%s on run %s (step %d, %s weights), process %s, %d samples of %s, batch %d%n",
          samplerId, c.model, tm.step(), ema ? "EMA" : "raw", process.id(), count,
          java.util.Arrays.toString(shape), b);
      for (String note : steer.notes()) {
        w.printf(Locale.ROOT, "steering  %s%n", note);
      }
      SampleCommand.statsNote(w, sampler);
      w.printf(Locale.ROOT, "NFE       %s%s%n", r.nfeText(), Format.depth(r));
      w.printf(Locale.ROOT, "time      %.3f s%n", r.nanos() / 1e9);
      switch (kind) {
        case "npy": {
          double[] raw = stored.clone();
          for (int i = 0; i < raw.length; i++) {
            raw[i] = rc.scaling().invert(raw[i]);
          }
          long[] full = new long[shape.length + 1];
          full[0] = count;
          System.arraycopy(shape, 0, full, 1, shape.length);
          Npy.write(c.out, raw, full, type == DataType.FLOAT32);
          break;
        }
        case "png": {
          double[] ref = twoD ? reference(rc) : null;
          String title = String.format(Locale.ROOT, "%s · %d steps · NFE %s", samplerId, grid.steps(), r.nfeText());
          AtomicFiles.write(c.out, ModelPreview.png(c.allClasses && images
              ? org.diffusion4j.cli.plot.ImageGrid.grid(stored, count, (int) shape[0], (int) shape[1], (int) shape[2],
                  shape[1] <= 32 ? 2 : 1, seeds.length)
              : ModelPreview.picture(title, shape, stored, ref)));
          break;
        }
        default: {
          Files.createDirectories(c.out);
          int h = (int) shape[1];
          for (int k = 0; k < count; k++) {
            String name = c.allClasses
                ? String.format(Locale.ROOT, "class-%d-seed-%06d.png", k / seeds.length, seeds[k % seeds.length])
                : String.format(Locale.ROOT, "seed-%06d.png", seeds[k]);
            AtomicFiles.write(c.out.resolve(name),
                ModelPreview.png(org.diffusion4j.cli.plot.ImageGrid.image(stored, k, (int) shape[0], h, (int) shape[2],
                    h <= 32 ? 4 : 1)));
          }
        }
      }
      if (c.trajectoryFile != null) {
        long[] full = new long[shape.length + 2];
        full[0] = grid.size();
        full[1] = count;
        System.arraycopy(shape, 0, full, 2, shape.length);
        if (runs.size() > 1) {
          // One run per class: regroup [class][step][seed] as [step][class·seed].
          int perStep = trajectory.length / (runs.size() * grid.size());
          double[] t = new double[trajectory.length];
          for (int k = 0; k < runs.size(); k++) {
            for (int st = 0; st < grid.size(); st++) {
              System.arraycopy(trajectory, (k * grid.size() + st) * perStep, t, (st * runs.size() + k) * perStep, perStep);
            }
          }
          trajectory = t;
        }
        Npy.write(c.trajectoryFile, trajectory, full, type == DataType.FLOAT32);
      }
      w.printf("wrote %s%n", c.out);
      return 0;
    }
  }

  /** ODE methods of flows that the frame's samplers cannot run (another source, another path). */
  private static final java.util.List<String> FLOW_ODE = java.util.List.of("euler", "midpoint", "heun", "rk4");

  /**
   * A flow from a source other than N(0, I), or on a path other than the rectified one: each seed's
   * source point is drawn from its own generator, and the flow's ODE is integrated in t on a uniform grid
   * of {@code --steps} steps with an explicit Runge–Kutta method.
   */
  private int transport(TrainedModel tm, org.diffusion4j.train.transport.FlowSpec flow, String kind, DataType type,
      PrintWriter w) throws IOException {
    RunConfig rc = tm.config();
    String how = flow.gaussianSource() ? "N(0, I) along the " + flow.path() + " path" : flow.source();
    var parse = c.spec.commandLine().getParseResult();
    int steps = c.grid.steps;
    String samplerId = c.sampler;
    if (flow.oneStep()) {
      if ((c.sampler != null && !c.sampler.equalsIgnoreCase("euler"))
          || (parse.hasMatchedOption("--steps") && c.grid.steps != 1)) {
        throw new IllegalArgumentException("run " + c.model + " is a one-step distillation: it is sampled with one "
            + "Euler step (--sampler euler --steps 1, the default), got --sampler " + c.sampler + " --steps "
            + c.grid.steps);
      }
      steps = 1;
      samplerId = "euler";
    } else if (c.sampler == null || !FLOW_ODE.contains(c.sampler.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("run " + c.model + " transports " + how + " to the data; the frame's "
          + "samplers start from N(0, I) on the rectified path, so it is integrated in t instead: --sampler "
          + String.join(" | ", FLOW_ODE) + " (got " + (c.sampler == null ? "none" : "'" + c.sampler + "'") + ")");
    }
    for (String o : new String[] {"--grid", "--process", "--sigma-min", "--sigma-max", "--rho", "--param", "--class",
        "--guidance", "--classifier", "--inpaint", "--sdedit", "--measurement", "--threshold"}) {
      if (parse.hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " does not apply to run " + c.model + ": it transports " + how
            + " and is integrated on a uniform grid in t (--sampler " + samplerId + " --steps N)");
      }
    }
    if (rc.classes() > 0) {
      throw new IllegalArgumentException("run " + c.model + " is class-conditional; sampling class-conditional "
          + "flows from a non-Gaussian source is not supported");
    }
    org.diffusion4j.train.transport.FlowOde.Method method =
        org.diffusion4j.train.transport.FlowOde.Method.parse(samplerId);
    long[] shape = rc.sampleShape();
    boolean images = shape.length == 3;
    boolean twoD = shape.length == 1 && shape[0] == 2;
    if (kind.equals("dir") || (kind.equals("png") && !images && !twoD)) {
      throw new IllegalArgumentException("--out " + c.out + ": use .npy" + (twoD || images ? " or .png" : ""));
    }
    long[] seeds = c.seeds(-1);
    int d = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    double[] x0 = new double[seeds.length * d];
    for (int i = 0; i < seeds.length; i++) {
      System.arraycopy(org.diffusion4j.train.transport.Reflow.sourceDraws(flow, shape, 1, seeds[i]), 0, x0, i * d, d);
    }
    org.diffusion4j.train.transport.VelocityField v = org.diffusion4j.train.transport.VelocityField.of(tm.denoiser(),
        shape, org.diffusion4j.denoiser.Conditioning.NONE);
    long t0 = System.nanoTime();
    double[][] path = c.trajectoryFile != null
        ? org.diffusion4j.train.transport.FlowOde.trajectory(v, x0, seeds.length, steps, method) : null;
    double[] x1 = path != null ? path[path.length - 1]
        : org.diffusion4j.train.transport.Reflow.transport(v, x0, seeds.length, steps, method);
    double seconds = (System.nanoTime() - t0) / 1e9;
    w.printf(Locale.ROOT, "%s in t, %d steps, on run %s (step %d): %s → data, %d samples of %s%n", method.name()
        .toLowerCase(Locale.ROOT), steps, c.model, tm.step(), how, seeds.length, java.util.Arrays.toString(shape));
    w.printf(Locale.ROOT, "NFE       %d%n", steps * method.stages());
    w.printf(Locale.ROOT, "time      %.3f s%n", seconds);
    long[] full = new long[shape.length + 1];
    full[0] = seeds.length;
    System.arraycopy(shape, 0, full, 1, shape.length);
    if (kind.equals("npy")) {
      double[] raw = x1.clone();
      for (int i = 0; i < raw.length; i++) {
        raw[i] = rc.scaling().invert(raw[i]);
      }
      Npy.write(c.out, raw, full, type == DataType.FLOAT32);
    } else {
      AtomicFiles.write(c.out, ModelPreview.png(ModelPreview.picture(String.format(Locale.ROOT, "%s in t · %d steps "
          + "· from %s", method.name().toLowerCase(Locale.ROOT), steps, how), shape, x1,
          twoD ? reference(rc) : null)));
    }
    if (path != null) {
      double[] all = new double[path.length * x1.length];
      for (int k = 0; k < path.length; k++) {
        System.arraycopy(path[k], 0, all, k * x1.length, x1.length);
      }
      long[] ts = new long[full.length + 1];
      ts[0] = path.length;
      System.arraycopy(full, 0, ts, 1, full.length);
      Npy.write(c.trajectoryFile, all, ts, type == DataType.FLOAT32);
    }
    w.printf("wrote %s%n", c.out);
    return 0;
  }

  private static double[] concat(double[] a, double[] b) {
    double[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** Training-data points to draw under a 2-D scatter (generated toys and small files only). */
  private static double[] reference(RunConfig rc) {
    try {
      DataSource s = DataSources.parse(rc.data());
      float[] f = s.sample(1000, new SplittableRandom(777)).x();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
