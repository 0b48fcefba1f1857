package org.diffusion4j.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.diffusion4j.cli.plot.LinePlot;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.distill.FlowMapSettings;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.Training;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.train.transport.FlowOde;
import org.diffusion4j.train.transport.FlowSpec;
import org.diffusion4j.train.transport.Reflow;
import org.diffusion4j.train.transport.VelocityField;
import org.diffusion4j.train.nn.DiffusersUNetConfig;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.diffusers.UNet2DConfig;
import org.diffusion4j.train.nn.NetworkConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.train.nn.UNetConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j train}: trains a denoiser on a data set with any objective of the frame. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train a diffusion or flow model on the JVM. Any objective is a preconditioning, a weighting "
        + "λ(σ) and a draw of σ; the trained network becomes a denoiser D(x;σ) that every sampler of "
        + "'d4j samplers' runs on ('d4j sample --model RUN').",
        "Writes RUN/config.json, weights.safetensors, ema.safetensors, optimizer.safetensors (atomically, at "
        + "every checkpoint), metrics.jsonl (one JSON object per logged step, with step and loss), loss.png and "
        + "samples/step-N.png (a scatter over the data for 2-D, an image grid for images)."},
    footer = {"", "Examples:", "  d4j train --data two-moons --out runs/moons",
        "  d4j train --data mnist:../shared/data/mnist --steps 6000 --batch 64 --out runs/mnist",
        "  d4j train --data checkerboard --objective flow --steps 6000 --out runs/cb",
        "  d4j train --out runs/moons --resume --steps 8000   # continue to 8000 steps",
        "  d4j train --data mnist:../shared/data/mnist --time-budget 20m --out runs/mnist-20m   # as many steps as 20 minutes"
        + " allow, the cosine ending with them"})
public final class TrainCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--data", paramLabel = "SPEC",
      description = "Training data: two-moons, 8-gaussians, checkerboard, swiss-roll, pinwheel, circles, demo, "
          + "gmm:FILE.json, mnist:DIR, images:DIR, npy:FILE, npz:FILE[:KEY], csv:FILE. Required unless --resume.")
  String data;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "The run directory, e.g. runs/moons.")
  Path out;

  @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint (its stored "
      + "network, process, objective and data are used; --steps may extend it). The continued run takes exactly "
      + "the steps the uninterrupted run would have taken.")
  boolean resume;

  @Option(names = "--objective", paramLabel = "ID", defaultValue = "edm",
      description = "eps | x0 | v | score | edm | vp | ve | flow, or flow matching on pairs: cfm | ot-cfm | sb-cfm | fm, "
          + "or score matching through the divergence of the model's score: ism (Hyvärinen, exact divergence, low "
          + "dimension) | ssm (sliced, one Hutchinson probe) (default: ${DEFAULT-VALUE}).")
  String objective;

  @Option(names = "--source", paramLabel = "SPEC", description = "Flow matching: the source distribution, gaussian "
      + "(N(0, I), default) or a data spec such as 8-gaussians (toy-to-toy transport).")
  String source;

  @Option(names = "--fm-path", paramLabel = "ID", description = "Flow matching: the conditional path, linear | bridge | "
      + "lipman | trig | vp | ve (default by objective: cfm/ot-cfm linear, sb-cfm bridge, fm lipman).")
  String fmPath;

  @Option(names = "--fm-sigma", paramLabel = "σ", description = "Flow matching: the path's σ (linear/bridge; sb-cfm "
      + "also sets Sinkhorn's ε = 2σ²), σ_min (lipman), β_max (vp) or σ_max (ve).")
  Double fmSigma;

  @Option(names = "--sinkhorn-eps", paramLabel = "ε", description = "sb-cfm: Sinkhorn's ε on the squared cost.")
  Double sinkhornEps;

  @Option(names = "--per-class", description = "Flow matching: couple within the data's classes (class-conditional OT).")
  boolean perClass;

  @picocli.CommandLine.Mixin
  FlowMapOptions flowMap;

  @Option(names = "--process", paramLabel = "ID",
      description = "Forward process (default by objective: edm→edm, flow→flow, score/ve→ve, others→vp): "
          + "edm, ve, vp, vp-cosine, subvp, flow, trig, ddpm.")
  String process;

  @Option(names = "--net", paramLabel = "KIND", defaultValue = "auto",
      description = "mlp | unet | diffusers-unet2d | auto (mlp for points, unet for images; default: "
          + "${DEFAULT-VALUE}). diffusers-unet2d is diffusers' UNet2DModel (exportable with d4j export --format "
          + "diffusers); without --objective it trains diffusers' DDPM way: --objective eps --process ddpm.")
  String net;

  @Option(names = {"--diffusers-config", "--unet-config"}, paramLabel = "FILE",
      description = "--net diffusers-unet2d: a UNet2DModel config.json (block_out_channels, layers_per_block, "
          + "block types, attention_head_dim, norm_num_groups, dropout, …; sample_size, channels and classes come "
          + "from the data). Default: 2 levels of 32, 64 channels, 1 block each, attention on the second, 8 groups.")
  java.nio.file.Path diffusersConfig;

  @Option(names = "--hidden", paramLabel = "N", defaultValue = "256", description = "MLP width (default: ${DEFAULT-VALUE}).")
  int hidden;

  @Option(names = "--blocks", paramLabel = "N", defaultValue = "4",
      description = "MLP residual blocks (default: ${DEFAULT-VALUE}).")
  int blocks;

  @Option(names = "--base-channels", paramLabel = "N", defaultValue = "32",
      description = "U-Net base channels (default: ${DEFAULT-VALUE}).")
  int baseChannels;

  @Option(names = "--multipliers", paramLabel = "M,M,…", split = ",", defaultValue = "1,2,2",
      description = "U-Net channel multipliers per level (default: ${DEFAULT-VALUE}).")
  int[] multipliers;

  @Option(names = "--blocks-per-level", paramLabel = "N", defaultValue = "2",
      description = "U-Net residual blocks per level (default: ${DEFAULT-VALUE}).")
  int blocksPerLevel;

  @Option(names = "--attention", paramLabel = "R,…", split = ",", defaultValue = "7",
      description = "U-Net self-attention resolutions (default: ${DEFAULT-VALUE}).")
  int[] attention;

  @Option(names = "--dropout", paramLabel = "P", defaultValue = "0.1", description = "U-Net dropout (default: ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--class-conditional", description = "Condition on the data's labels (MNIST, image sub-folders, "
      + "a CSV 'label' column, an NPZ 'labels' array, mixture components): a class embedding with a null label, so "
      + "the model also samples unconditionally and serves classifier-free guidance.")
  boolean classConditional;

  @Option(names = "--label-dropout", paramLabel = "P",
      description = "With --class-conditional: probability of training an example with the null label (default 0.1).")
  Double labelDropout;

  @Option(names = "--resolution", paramLabel = "PX", description = "Image side for images:DIR (default 32).")
  Integer resolution;

  @Option(names = "--flip", description = "Random horizontal flips of images.")
  boolean flip;

  @Option(names = "--sigma-data", paramLabel = "σ|auto", defaultValue = "auto",
      description = "σ_data of the preconditioning; auto measures the data's std (default: ${DEFAULT-VALUE}).")
  String sigmaData;

  @Option(names = "--steps", paramLabel = "N", description = "Optimiser steps (default 4000 for points, 6000 for images).")
  Long steps;

  @Option(names = "--batch", paramLabel = "B", description = "Batch size (default 512 for points, 64 for images).")
  Integer batch;

  @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate (default 2e-3 for points, 5e-4 for images).")
  Double lr;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
      description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
  long warmup;

  @Option(names = "--lr-schedule", paramLabel = "KIND", defaultValue = "cosine",
      description = "constant | cosine after warm-up (default: ${DEFAULT-VALUE}).")
  String lrSchedule;

  @Option(names = "--clip", paramLabel = "NORM", defaultValue = "1.0",
      description = "Global gradient-norm clipping, 0 to disable (default: ${DEFAULT-VALUE}).")
  double clip;

  @Option(names = "--ema", paramLabel = "DECAY", defaultValue = "0.999",
      description = "EMA decay with warm-up min(decay, (1+t)/(10+t)) (default: ${DEFAULT-VALUE}).")
  double emaDecay;

  @Option(names = "--ema-half-life", paramLabel = "IMAGES",
      description = "Use EDM's EMA half-life in images instead of --ema (e.g. 500000).")
  Double emaHalfLife;

  @Option(names = "--accumulate", paramLabel = "K", defaultValue = "1",
      description = "Gradient-accumulation micro-batches per step; must divide --batch (default: ${DEFAULT-VALUE}).")
  int accumulate;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Run seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--checkpoint-every", paramLabel = "N",
      description = "Steps between checkpoints and sample previews (default steps/5).")
  Integer checkpointEvery;

  @Option(names = "--log-every", paramLabel = "N", description = "Steps between metrics lines (default steps/200, >= 1).")
  Integer logEvery;

  @Option(names = "--quiet", description = "No progress bar.")
  boolean quiet;

  @Option(names = "--time-budget", paramLabel = "TIME", description = "Train for this wall time (e.g. 90s, 20m, "
      + "1h30m): a step starts only while time is left, the last full step is checkpointed. Without --steps a new run "
      + "then has no step limit and a cosine --lr-schedule decays with the clock, reaching 0 when the time is up "
      + "(with --steps, with whichever ends first). Also on --resume (the time counts from the resume).")
  String timeBudget;

  /** Options that shape a new run; on --resume each is refused, since the run keeps what it stored. */
  private static final List<String> RUN_OPTIONS = java.util.stream.Stream.concat(java.util.stream.Stream.of("--objective",
      "--process", "--net", "--hidden", "--blocks", "--base-channels", "--multipliers", "--blocks-per-level", "--attention",
      "--dropout", "--class-conditional", "--label-dropout", "--resolution", "--flip", "--sigma-data", "--diffusers-config",
      "--batch", "--lr", "--warmup", "--lr-schedule", "--clip", "--ema", "--ema-half-life", "--accumulate", "--seed",
      "--source", "--fm-path", "--fm-sigma", "--sinkhorn-eps", "--per-class"), FlowMapOptions.NAMES.stream()).toList();
  private static final List<String> MLP_OPTIONS = List.of("--hidden", "--blocks");
  private static final List<String> UNET_OPTIONS = List.of("--base-channels", "--multipliers", "--blocks-per-level",
      "--attention", "--dropout");

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Training training;
    if (resume) {
      RunDirs.refuseOnResume(spec.commandLine().getParseResult(), RUN_OPTIONS, out);
      if (!RunDirs.isRun(out)) {
        throw new IllegalArgumentException("--resume: " + out + " holds no run (no " + Checkpoint.CONFIG + ")");
      }
      if (Checkpoint.readConfig(out).contains("\"alignment\"")) {
        throw new IllegalArgumentException("--resume: " + out + " was fine-tuned by 'd4j align'; training it further with "
            + "its denoising objective would undo that (continue it with d4j align --out " + out + " --resume)");
      }
      if (org.diffusion4j.train.distill.Distillation.isDistillationRun(out)) {
        throw new IllegalArgumentException("--resume: " + out + " is a student of 'd4j distill'; continue it with d4j "
            + "distill --out " + out + " --resume");
      }
      training = Training.resume(out);
      if (steps != null) {
        training.steps(steps);
      }
      if (logEvery != null) {
        training.logEvery(logEvery);
      }
      if (checkpointEvery != null) {
        training.checkpointEvery(checkpointEvery);
      }
    } else {
      if (data == null) {
        throw new IllegalArgumentException("--data is required (e.g. --data two-moons); accepted: " + DataSources.spellings());
      }
      RunDirs.checkNew(out);
      training = newTraining();
    }
    java.time.Duration budget = timeBudget == null ? null : parseDuration("--time-budget", timeBudget);
    if (budget != null) {
      training.timeBudget(budget);
      if (!resume && steps == null) {
        // No step count to divide: log every 10 steps, checkpoint (and preview) every 1000.
        training.steps(UNBOUNDED_STEPS);
        if (logEvery == null) {
          training.logEvery(10);
        }
        if (checkpointEvery == null) {
          training.checkpointEvery(1000);
        }
      }
    }
    // Everything is checked (data read, σ_data measured) before the run directory is touched.
    Training.Plan plan = training.plan();
    RunConfig full = plan.config();
    if (resume && budget == null && steps == null && full.training().steps() >= UNBOUNDED_STEPS) {
      throw new IllegalArgumentException(out + " was trained with --time-budget alone and has no step limit: resume it "
          + "with --time-budget TIME (e.g. 10m) or --steps N");
    }
    if (resume) {
      if (data != null && !data.equals(full.data())) {
        throw new IllegalArgumentException("--resume: the run was trained on '" + full.data() + "', not '" + data + "'");
      }
      long at = Checkpoint.readWeightsWithStep(out, false).getKey();
      if (at >= full.training().steps()) {
        w.printf(Locale.ROOT, "nothing to do: %s is at step %d of %d; pass --steps N > %d to train it further%n", out, at,
            full.training().steps(), at);
        return 0;
      }
      if (steps != null) {
        w.printf(Locale.ROOT, "extending the run to %d steps (its %s learning-rate schedule now spans %d steps)%n",
            full.training().steps(), full.training().lrSchedule(), full.training().steps());
      }
    }
    checkOptionsApply(full);
    boolean images = full.sampleShape().length == 3;
    TrainSettings t = full.training();
    String length = budget == null ? t.steps() + " steps"
        : "for " + ProgressLine.clock(budget.toNanos() / 1e9) + (t.steps() >= UNBOUNDED_STEPS ? "" : " (at most " + t.steps() + " steps)");
    w.printf(Locale.ROOT, "%s %s: %s on %s, objective %s (σ_data %.3g), process %s; %s × batch %d, lr %.3g%n",
        resume ? "resuming" : "training", out, describe(full.network()), plan.data().describe(), full.objective(),
        full.sigmaData(), full.process().id(), length, t.batch(), t.lr());
    w.flush();
    double[] reference = reference(plan.data(), full);
    Progress progress = new Progress(err, quiet, t.steps(), budget == null ? 0 : budget.toNanos() / 1e9);
    training.listener(new Trainer.Listener() {
      @Override
      public void onLog(Trainer.StepLog s) {
        progress.update(s);
      }

      @Override
      public void onCheckpoint(long step, Map<String, NDArray> averages) {
        try {
          preview(full, averages, step, reference);
          lossPlot();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    });
    // Ctrl-C / SIGTERM (D4j.main's hook) only asks for a stop: the trainer finishes the step it is in, writes
    // a checkpoint there and throws StoppedException, which D4j reports with the resume command.
    try {
      training.run(plan, out, tr -> { }).close();
    } finally {
      progress.done();
    }
    w.printf(Locale.ROOT, "done: %s (checkpoint, metrics.jsonl, loss.png, samples/)%n", out);
    w.printf(Locale.ROOT, "sample it: d4j sample --model %s --sampler heun --steps 18 --out samples.png%n", out);
    return 0;
  }

  /** The step limit of a run given only a {@code --time-budget}. */
  static final long UNBOUNDED_STEPS = 1_000_000_000L;

  /**
   * A wall time: {@code 90s}, {@code 20m}, {@code 1h30m}, {@code 1.5h}, or ISO-8601 ({@code PT20M}); the error
   * names the option and the value.
   */
  static java.time.Duration parseDuration(String option, String text) {
    String v = text.trim().toLowerCase(Locale.ROOT);
    java.time.Duration d = null;
    try {
      if (v.startsWith("p")) {
        d = java.time.Duration.parse(v.toUpperCase(Locale.ROOT));
      } else {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(h|m|s)").matcher(v);
        int end = 0;
        double seconds = 0;
        while (m.find() && m.start() == end) {
          double x = Double.parseDouble(m.group(1));
          seconds += x * switch (m.group(2)) {
            case "h" -> 3600;
            case "m" -> 60;
            default -> 1;
          };
          end = m.end();
        }
        if (end == v.length() && end > 0) {
          d = java.time.Duration.ofNanos(Math.round(seconds * 1e9));
        }
      }
    } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
      d = null;
    }
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(option + " '" + text + "' is not a positive wall time; write e.g. 90s, 20m, "
          + "1h30m or PT20M");
    }
    return d;
  }

  private Training newTraining() {
    DataOptions o = DataOptions.defaults();
    boolean folder = data.toLowerCase(Locale.ROOT).startsWith("images:");
    if (!folder && (given("--resolution") || given("--flip"))) {
      throw new IllegalArgumentException((given("--resolution") ? "--resolution" : "--flip")
          + " applies to image folders (--data images:DIR) only");
    }
    if (resolution != null) {
      o = o.withResolution(resolution);
    }
    o = o.withFlip(flip);
    Training t = Training.on(data, o).objective(objective).classConditional(classConditional)
        .lrSchedule(lrSchedule).clip(clip).ema(emaDecay).accumulate(accumulate).seed(seed).warmup(warmup);
    if (process != null) {
      t.process(process);
    }
    if (labelDropout != null) {
      if (!classConditional) {
        throw new IllegalArgumentException("--label-dropout needs --class-conditional");
      }
      t.labelDropout(labelDropout);
    }
    if (FlowSpec.handles(objective)) {
      FlowSpec f = FlowSpec.defaults(objective);
      if (source != null) {
        f = f.withSource(source);
      }
      if (fmPath != null) {
        f = f.withPath(fmPath, fmSigma != null ? fmSigma : f.pathParameter());
      } else if (fmSigma != null) {
        f = f.withSigma(fmSigma);
      }
      if (sinkhornEps != null) {
        f = f.withEpsilon(sinkhornEps);
      }
      t.flow(f.withPerClass(perClass));
    } else {
      for (String fo : List.of("--source", "--fm-path", "--fm-sigma", "--sinkhorn-eps", "--per-class")) {
        if (given(fo)) {
          throw new IllegalArgumentException(fo + " applies to the flow-matching objectives ("
              + String.join(", ", FlowSpec.OBJECTIVES) + "), not " + objective);
        }
      }
    }
    flowMap.check("--objective", objective, "sct");
    if (flowMap.mfUnequal != null || flowMap.mfPower != null || flowMap.scmPMean != null || flowMap.scmPStd != null) {
      FlowMapSettings d = FlowMapSettings.DEFAULT;
      t.flowMap(d.withMeanFlow(flowMap.mfUnequal != null ? flowMap.mfUnequal : d.meanFlowUnequal(),
          flowMap.mfPower != null ? flowMap.mfPower : d.meanFlowPower())
          .withScm(flowMap.scmPMean != null ? flowMap.scmPMean : d.scmPMean(),
              flowMap.scmPStd != null ? flowMap.scmPStd : d.scmPStd()));
    }
    if (!sigmaData.equalsIgnoreCase("auto")) {
      t.sigmaData(parsePositive("--sigma-data", sigmaData));
    }
    if (steps != null) {
      t.steps(steps);
    }
    if (batch != null) {
      t.batch(batch);
    }
    if (lr != null) {
      t.lr(lr);
    }
    if (emaHalfLife != null) {
      t.emaHalfLife(emaHalfLife);
    }
    if (logEvery != null) {
      t.logEvery(logEvery);
    }
    if (checkpointEvery != null) {
      t.checkpointEvery(checkpointEvery);
    }
    String kind = net.toLowerCase(Locale.ROOT);
    if (!List.of("auto", "mlp", "unet", DiffusersUNetConfig.TYPE).contains(kind)) {
      throw new IllegalArgumentException("unknown --net '" + net + "'; accepted: mlp, unet, " + DiffusersUNetConfig.TYPE
          + ", auto");
    }
    if (diffusersConfig != null && !kind.equals(DiffusersUNetConfig.TYPE)) {
      throw new IllegalArgumentException("--diffusers-config applies to --net " + DiffusersUNetConfig.TYPE + " only");
    }
    if (kind.equals(DiffusersUNetConfig.TYPE)) {
      UNet2DConfig base;
      if (diffusersConfig == null) {
        base = DiffusersUNetConfig.small();
      } else {
        try {
          base = UNet2DConfig.parse(java.nio.file.Files.readString(diffusersConfig), diffusersConfig.toString());
        } catch (java.io.IOException e) {
          throw new IllegalArgumentException("--diffusers-config " + diffusersConfig + ": cannot read: " + e.getMessage());
        }
      }
      if (!given("--objective")) {
        // diffusers' own training (Ho et al. 2020): ε-prediction at integer DDPM timesteps.
        t.objective("eps");
        if (process == null) {
          t.process("ddpm");
        }
      }
      UNet2DConfig b = base;
      t.networkFor((shape, classes) -> DiffusersUNetConfig.forData(b, shape, classes));
      return t;
    }
    t.networkFor((shape, classes) -> network(kind.equals("auto") ? (shape.length == 3 ? "unet" : "mlp") : kind, shape,
        classes));
    return t;
  }

  private NetworkConfig network(String kind, long[] shape, int classes) {
    if (kind.equals("mlp")) {
      long dim = 1;
      for (long v : shape) {
        dim *= v;
      }
      return new MlpConfig(Math.toIntExact(dim), hidden, blocks, 64, classes);
    }
    if (shape.length != 3 || shape[1] != shape[2]) {
      throw new IllegalArgumentException("--net unet needs square images [C, H, H], data has shape "
          + java.util.Arrays.toString(shape));
    }
    UNetConfig d = UNetConfig.mnist();
    return new UNetConfig((int) shape[0], (int) shape[1], baseChannels, multipliers, blocksPerLevel, attention, dropout,
        classes, d.heads(), d.embedding(), d.downsample());
  }

  private static double parsePositive(String name, String v) {
    try {
      double d = Double.parseDouble(v);
      if (d > 0 && Double.isFinite(d)) {
        return d;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException(name + " must be a number > 0 or auto, got '" + v + "'");
  }

  /** Fills in the network from the options now that the data's shape is known, refusing options with no effect. */
  private void checkOptionsApply(RunConfig c) {
    if (resume) {
      return;
    }
    if (c.network() instanceof DiffusersUNetConfig) {
      for (String o : java.util.stream.Stream.concat(MLP_OPTIONS.stream(), UNET_OPTIONS.stream()).toList()) {
        if (given(o)) {
          throw new IllegalArgumentException(o + " has no effect on --net " + DiffusersUNetConfig.TYPE
              + " (its architecture, dropout included, is the --diffusers-config file's); leave it out");
        }
      }
      return;
    }
    boolean unet = c.network() instanceof UNetConfig;
    for (String o : unet ? MLP_OPTIONS : UNET_OPTIONS) {
      if (given(o)) {
        throw new IllegalArgumentException(o + " has no effect on " + (unet ? "a U-Net" : "an MLP") + " (--net "
            + (unet ? "unet" : "mlp") + "); leave it out");
      }
    }
  }

  private static String describe(NetworkConfig c) {
    if (c instanceof DiffusersUNetConfig d) {
      return "diffusers UNet2DModel " + java.util.Arrays.toString(d.unet().blockOutChannels()) + "ch";
    }
    return c instanceof MlpConfig m ? String.format(Locale.ROOT, "MLP %d×%d", m.blocks(), m.hidden())
        : "U-Net " + ((UNetConfig) c).baseChannels() + "ch";
  }

  /** 2-D data points to draw samples over. */
  private static double[] reference(DataSource s, RunConfig c) {
    if (c.sampleShape().length != 1 || c.sampleShape()[0] != 2) {
      return null;
    }
    float[] f = s.sample(2000, new SplittableRandom(777)).x();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private void preview(RunConfig c, Map<String, NDArray> averages, long step, double[] reference) throws IOException {
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Block net = TrainedModel.newNetwork(c, m);
      Map<String, NDArray> params = Trainer.parameters(net);
      averages.forEach((k, v) -> v.copyTo(params.get(k)));
      NetworkDenoiser d = new NetworkDenoiser(net, c.objectiveValue().preconditioning());
      boolean images = c.sampleShape().length == 3;
      long[] seeds = new long[images ? 64 : 1000];
      for (int i = 0; i < seeds.length; i++) {
        seeds[i] = i;
      }
      FlowSpec flow = FlowSpec.handles(c.objective()) ? Reflow.specOf(out) : null;
      double[] samples;
      String how = "heun 18 steps";
      if (flow != null && !(flow.gaussianSource() && flow.conditionalPath().isRectified())) {
        // Another source or path: integrate the velocity field in t from source draws.
        samples = Reflow.transport(VelocityField.of(d, c.sampleShape(), Conditioning.NONE),
            Reflow.sourceDraws(flow, c.sampleShape(), seeds.length, 0), seeds.length, 18, FlowOde.Method.HEUN);
        how = "heun 18 steps in t from " + flow.source();
      } else {
        samples = ModelPreview.sample(d, c.sampleShape(), ModelPreview.defaultGrid(c.process()),
            SamplerRegistry.create("heun", Map.of()), seeds, images ? 64 : 1000, false).samples();
      }
      var img = ModelPreview.picture(String.format(Locale.ROOT, "EMA samples · step %d · %s", step, how),
          c.sampleShape(), samples, reference);
      if (img != null) {
        AtomicFiles.write(out.resolve("samples").resolve(String.format(Locale.ROOT, "step-%07d.png", step)),
            ModelPreview.png(img));
      }
    }
  }

  private void lossPlot() throws IOException {
    Path metrics = out.resolve("metrics.jsonl");
    if (!Files.exists(metrics)) {
      return;
    }
    List<double[]> pts = new ArrayList<>();
    for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      pts.add(new double[] {o.get("step").getAsDouble(), o.get("loss").getAsDouble()});
    }
    double[] x = new double[pts.size()];
    double[] y = new double[pts.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = pts.get(i)[0];
      y[i] = pts.get(i)[1];
    }
    AtomicFiles.write(out.resolve("loss.png"), ModelPreview.png(LinePlot.logY("training loss (" + out + ")", x, y)));
  }

  /** The training progress bar on stderr (a {@link ProgressLine}). */
  static final class Progress {
    private final boolean quiet;
    private final long total;
    private final double budgetSeconds;
    private final ProgressLine line;

    Progress(PrintWriter err, boolean quiet, long total) {
      this(err, quiet, total, 0);
    }

    /** @param budgetSeconds the run's time budget, 0 if none: the bar then counts time, not steps */
    Progress(PrintWriter err, boolean quiet, long total, double budgetSeconds) {
      this.quiet = quiet;
      this.total = total;
      this.budgetSeconds = budgetSeconds;
      this.line = new ProgressLine(err);
    }

    void update(Trainer.StepLog s) {
      if (quiet) {
        return;
      }
      double frac = (double) s.step() / total;
      double eta = s.stepsPerSecond() > 0 ? (total - s.step()) / s.stepsPerSecond() : 0;
      if (budgetSeconds > 0) {
        double left = Math.max(0, budgetSeconds - s.seconds());
        if (left < eta || total >= UNBOUNDED_STEPS) {
          frac = Math.min(1, s.seconds() / budgetSeconds);
          eta = left;
        }
      }
      int width = 24;
      int filled = (int) Math.round(frac * width);
      String bar = "=".repeat(Math.max(0, filled)) + " ".repeat(Math.max(0, width - filled));
      // Without a step limit (a time budget alone) the line shows the time left instead of step/total.
      String text = total >= UNBOUNDED_STEPS
          ? String.format(Locale.ROOT, "step %d [%s] loss %.4f  %.1f steps/s  left %s", s.step(), bar, s.loss(),
              s.stepsPerSecond(), ProgressLine.clock(eta))
          : String.format(Locale.ROOT, "step %d/%d [%s] loss %.4f  %.1f steps/s  ETA %s", s.step(), total, bar,
              s.loss(), s.stepsPerSecond(), ProgressLine.clock(eta));
      line.show(text, frac);
    }

    void done() {
      line.done();
    }
  }
}
