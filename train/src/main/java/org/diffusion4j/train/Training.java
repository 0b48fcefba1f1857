package org.diffusion4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.loss.ScoreMatchingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * The library's front door for training, with the command line's defaults: σ_data measured from the
 * data, the process that goes with the objective, an MLP for points and a U-Net for images, batch and
 * learning rate by data kind.
 *
 * <pre>{@code
 * try (TrainedModel model = Training.on("two-moons").objective("edm").steps(2000).train(Path.of("runs/moons"))) {
 *   Denoiser d = model.denoiser();
 * }
 * }</pre>
 *
 * <p>{@link #resume} continues a run from its last checkpoint with everything it stored; only the step
 * count may change.
 */
public final class Training {
  private final String dataSpec;
  private final DataOptions dataOptions;
  private final Path resumeDir;
  private String objective = "edm";
  private String process;
  private NetworkConfig network;
  private java.util.function.BiFunction<long[], Integer, NetworkConfig> networkFactory;
  private Double sigmaData;
  private Long steps;
  private Integer batch;
  private Double lr;
  private Long warmup;
  private String lrSchedule = "cosine";
  private double clip = 1.0;
  private double emaDecay = 0.999;
  private double emaHalfLife = 0;
  private int accumulate = 1;
  private long seed = 0;
  private Integer logEvery;
  private Integer checkpointEvery;
  private boolean classConditional;
  private Double labelDropout;
  private Trainer.Listener listener;
  private ai.djl.Device device;
  private java.time.Duration budget;
  private boolean modified;
  private org.diffusion4j.train.transport.FlowSpec flow;
  private org.diffusion4j.train.distill.FlowMapSettings flowMap;

  private Training(String dataSpec, DataOptions options, Path resumeDir) {
    this.dataSpec = dataSpec;
    this.dataOptions = options;
    this.resumeDir = resumeDir;
  }

  /**
   * Training on a data spec as {@code d4j train --data} spells it: {@code two-moons}, {@code mnist:DIR},
   * {@code images:DIR}, {@code npy:FILE}, … ({@link DataSources#spellings()}).
   */
  public static Training on(String dataSpec) {
    return on(dataSpec, DataOptions.defaults());
  }

  /** Training on a data spec with image options (resolution, flips, channels, scaling). */
  public static Training on(String dataSpec, DataOptions options) {
    return new Training(Objects.requireNonNull(dataSpec, "dataSpec"), options, null);
  }

  /** Continues the run in {@code runDir} from its last checkpoint with everything it stored. */
  public static Training resume(Path runDir) {
    return new Training(null, null, runDir);
  }

  private Training set() {
    if (resumeDir != null) {
      modified = true;
    }
    return this;
  }

  /** The objective: {@code edm} (default), {@code eps}, {@code x0}, {@code v}, {@code score}, {@code ve}, {@code vp}, {@code flow}, or score matching through the divergence: {@code ism} (exact), {@code ssm} (sliced). */
  public Training objective(String id) {
    String o = id.toLowerCase(Locale.ROOT);
    if (!Objective.IDS.contains(o)) {
      throw new IllegalArgumentException("unknown objective '" + id + "'; accepted: " + String.join(", ", Objective.IDS));
    }
    this.objective = o;
    return set();
  }

  /** The forward process (default by objective: edm→edm, flow→flow, score/ve→ve, others→vp). */
  public Training process(String id) {
    Processes.byId(id);
    this.process = id;
    return set();
  }

  /** The raw network (default: an MLP 4×256 for points, the MNIST-sized U-Net for images). */
  public Training network(NetworkConfig network) {
    this.network = network;
    return set();
  }

  /**
   * The raw network as a function of the data's sample shape and class count (how the command line
   * turns its width options into an MLP or a U-Net once the data is read).
   */
  public Training networkFor(java.util.function.BiFunction<long[], Integer, NetworkConfig> factory) {
    this.networkFactory = factory;
    return set();
  }

  /** σ_data of the preconditioning (default: the data's std, measured on 4096 draws). */
  public Training sigmaData(double sigmaData) {
    this.sigmaData = sigmaData;
    return set();
  }

  /** Optimiser steps (default 4000 for points, 6000 for images); on resume, the new total. */
  public Training steps(long steps) {
    this.steps = steps;
    return this;
  }

  /** Examples per step (default 512 for points, 64 for images). */
  public Training batch(int batch) {
    this.batch = batch;
    return set();
  }

  /** Peak learning rate (default 2e-3 for points, 5e-4 for images). */
  public Training lr(double lr) {
    this.lr = lr;
    return set();
  }

  /** Linear warm-up steps (default 200, at most steps − 1). */
  public Training warmup(long warmup) {
    this.warmup = warmup;
    return set();
  }

  /** {@code cosine} (default) or {@code constant} after warm-up. */
  public Training lrSchedule(String kind) {
    this.lrSchedule = kind;
    return set();
  }

  /** Global gradient-norm clipping, 0 to disable (default 1). */
  public Training clip(double clip) {
    this.clip = clip;
    return set();
  }

  /** EMA decay of the warm-up form (default 0.999). */
  public Training ema(double decay) {
    this.emaDecay = decay;
    return set();
  }

  /** EDM's EMA half-life in images instead of the decay form. */
  public Training emaHalfLife(double images) {
    this.emaHalfLife = images;
    return set();
  }

  /** Gradient-accumulation micro-batches (default 1). */
  public Training accumulate(int k) {
    this.accumulate = k;
    return set();
  }

  /** The run's seed (default 0). */
  public Training seed(long seed) {
    this.seed = seed;
    return set();
  }

  /** Steps between metrics lines (default steps/200); may change on resume (it does not change the run). */
  public Training logEvery(int steps) {
    this.logEvery = steps;
    return this;
  }

  /** Steps between checkpoints (default steps/5); may change on resume (it does not change the run). */
  public Training checkpointEvery(int steps) {
    this.checkpointEvery = steps;
    return this;
  }

  /** Condition on the data's class labels (with a learned null label, so it also samples unconditionally). */
  public Training classConditional(boolean on) {
    this.classConditional = on;
    return set();
  }

  /**
   * Probability of dropping a label to the null class in class-conditional training, in [0, 1)
   * (default 0.1, Ho &amp; Salimans 2022), so the model also serves classifier-free guidance.
   */
  public Training labelDropout(double p) {
    if (!(p >= 0 && p < 1)) {
      throw new IllegalArgumentException("label dropout must be in [0, 1), got " + p);
    }
    this.labelDropout = p;
    return set();
  }

  /**
   * The transport choices of a flow-matching objective (cfm, ot-cfm, sb-cfm, fm): source, coupling,
   * path (default: the objective's own, from N(0, I)).
   */
  public Training flow(org.diffusion4j.train.transport.FlowSpec spec) {
    this.flow = spec;
    return set();
  }

  /**
   * The knobs of a flow-map run from scratch ({@code objective("mf")}: share of r ≠ t pairs, adaptive weight's
   * power; {@code objective("sct")}: the noise-level draw), default
   * {@link org.diffusion4j.train.distill.FlowMapSettings#DEFAULT}; stored in the run, so a resumed run keeps
   * its own.
   */
  public Training flowMap(org.diffusion4j.train.distill.FlowMapSettings settings) {
    this.flowMap = java.util.Objects.requireNonNull(settings, "settings");
    return set();
  }

  /**
   * The device the network, its optimiser state and every batch live on (default: the process's device,
   * {@code Devices.current()}); not part of the run, so a run trained on a GPU resumes or samples on a CPU.
   * Check it with {@code Devices.parse} first for a clear error when it is missing.
   */
  public Training device(ai.djl.Device device) {
    this.device = device;
    return this;
  }

  /**
   * A wall-clock budget: the run stops at the last step that started within it and checkpoints there
   * ({@link Trainer#budget}); the step count ({@link #steps}) stays an upper bound. Not part of the run's
   * stored configuration.
   */
  public Training timeBudget(java.time.Duration budget) {
    if (budget == null || budget.isNegative() || budget.isZero()) {
      throw new IllegalArgumentException("a training time budget must be > 0, got " + budget);
    }
    this.budget = budget;
    return this;
  }

  /** Observes logged steps and checkpoints (progress bars, previews). */
  public Training listener(Trainer.Listener listener) {
    this.listener = listener;
    return this;
  }

  /** The default process of an objective. */
  public static String defaultProcess(String objective) {
    switch (objective) {
      case "edm":
        return "edm";
      case "ct":
      case "cd":
      case "sct":
      case "scd":
      case "ctm":
      case "dmd":
      case "ism":
      case "ssm":
        return "edm";
      case "flow":
      case "mf":
      case "cfm":
      case "ot-cfm":
      case "sb-cfm":
      case "fm":
        return "flow";
      case "score":
      case "ve":
        return "ve";
      default:
        return "vp";
    }
  }

  /** The data's overall std from 4096 draws, rounded to 2 significant digits. */
  public static double measureStd(DataSource s) {
    DataSource.HostBatch b = s.sample(4096, new SplittableRandom(12345));
    double mean = 0;
    for (float v : b.x()) {
      mean += v;
    }
    mean /= b.x().length;
    double var = 0;
    for (float v : b.x()) {
      var += (v - mean) * (v - mean);
    }
    double sd = Math.sqrt(var / b.x().length);
    if (!(sd > 0) || !Double.isFinite(sd)) {
      throw new IllegalArgumentException("the data has zero or non-finite variance (" + sd + "); cannot train on it");
    }
    return Double.parseDouble(String.format(Locale.ROOT, "%.2g", sd));
  }

  /** A planned run: its configuration and its data. */
  public record Plan(RunConfig config, DataSource data, boolean resume) {}

  /**
   * Everything decided, nothing run or written: the configuration (defaults filled in, σ_data measured)
   * and the data, or for a resume the stored configuration with the new step count.
   */
  public Plan plan() throws IOException {
    if (resumeDir != null) {
      if (modified) {
        throw new IllegalArgumentException("a resumed run keeps everything it stored; only the step count may change");
      }
      if (!Files.isRegularFile(resumeDir.resolve(Checkpoint.CONFIG))) {
        throw new IllegalArgumentException("resume: " + resumeDir + " holds no run (no " + Checkpoint.CONFIG + ")");
      }
      RunConfig stored = RunConfig.fromJson(Checkpoint.readConfig(resumeDir),
          resumeDir.resolve(Checkpoint.CONFIG).toString());
      TrainSettings st = stored.training();
      st = new TrainSettings(steps != null ? steps : st.steps(), st.batch(), st.accumulate(), st.lr(), st.warmup(),
          st.lrSchedule(), st.clip(), st.emaDecay(), st.emaHalfLife(), st.seed(),
          logEvery != null ? logEvery : st.logEvery(), checkpointEvery != null ? checkpointEvery : st.checkpointEvery());
      RunConfig c = stored.withTraining(st);
      DataOptions o = DataOptions.defaults();
      if (c.resolution() > 0) {
        o = o.withResolution(c.resolution());
      }
      return new Plan(c, DataSources.parse(c.data(), o.withFlip(c.flip())), true);
    }
    DataSource source = DataSources.parse(dataSpec, dataOptions);
    long[] shape = source.sampleShape();
    boolean images = shape.length == 3;
    int classes = classConditional ? source.classes() : 0;
    if (classConditional && classes == 0) {
      throw new IllegalArgumentException("class-conditional training: data '" + dataSpec + "' has no labels");
    }
    NetworkConfig net = network != null ? network
        : networkFactory != null ? networkFactory.apply(shape.clone(), classes) : defaultNetwork(shape, classes);
    long n = steps != null ? steps : TrainSettings.defaultSteps(images);
    TrainSettings d = TrainSettings.defaults(images, n);
    TrainSettings t = new TrainSettings(n, batch != null ? batch : d.batch(), accumulate, lr != null ? lr : d.lr(),
        warmup != null ? warmup : d.warmup(), lrSchedule, clip, emaDecay, emaHalfLife, seed,
        logEvery != null ? logEvery : d.logEvery(), checkpointEvery != null ? checkpointEvery : d.checkpointEvery());
    NoiseProcess p = Processes.byId(process != null ? process : defaultProcess(objective));
    double sd = sigmaData != null ? sigmaData : measureStd(source);
    boolean folder = dataSpec.toLowerCase(Locale.ROOT).startsWith("images:");
    if (labelDropout != null && classes == 0) {
      throw new IllegalArgumentException("label dropout is for class-conditional training (--class-conditional)");
    }
    RunConfig c = new RunConfig(net, p, objective, sd, dataSpec, shape, source.scaling(), classes,
        folder ? dataOptions.resolution() : 0, folder && dataOptions.flip(), t,
        classes == 0 ? 0 : labelDropout != null ? labelDropout : DenoisingLoss.DEFAULT_LABEL_DROPOUT);
    return new Plan(c, source, false);
  }

  /** The default raw network for samples of {@code shape}. */
  public static NetworkConfig defaultNetwork(long[] shape, int classes) {
    if (shape.length == 3) {
      if (shape[1] != shape[2]) {
        throw new IllegalArgumentException("the U-Net needs square images [C, H, H], data has shape "
            + java.util.Arrays.toString(shape));
      }
      UNetConfig m = UNetConfig.mnist();
      return new UNetConfig((int) shape[0], (int) shape[1], m.baseChannels(), m.multipliers(), m.blocksPerLevel(),
          m.attentionResolutions(), m.dropout(), classes, m.heads(), m.embedding(), m.downsample());
    }
    long dim = 1;
    for (long v : shape) {
      dim *= v;
    }
    return new MlpConfig(Math.toIntExact(dim), 256, 4, 64, classes);
  }

  /** Trains into {@code runDir} (which must not hold a run) and returns the EMA model. */
  public TrainedModel train(Path runDir) throws IOException {
    if (resumeDir != null) {
      throw new IllegalStateException("a resumed run trains in its own directory: call train()");
    }
    return run(plan(), runDir);
  }

  /** Continues the resumed run in its own directory and returns the EMA model. */
  public TrainedModel train() throws IOException {
    if (resumeDir == null) {
      throw new IllegalStateException("say where the run goes: call train(runDir)");
    }
    return run(plan(), resumeDir);
  }

  /**
   * A new network on {@code m}'s device with the weights a CPU run of the same seed starts from (the engine's
   * random streams differ between devices), so a run's start and its first losses do not depend on the device.
   */
  private static Block initialisedOnCpu(RunConfig c, NDManager m) {
    try (NDManager cpu = NDManager.newBaseManager(ai.djl.Device.cpu())) {
      Block host = TrainedModel.newNetwork(c, cpu);
      Block net = TrainedModel.newNetwork(c, m);
      var src = host.getParameters();
      var dst = net.getParameters();
      for (int i = 0; i < src.size(); i++) {
        dst.get(i).getValue().getArray().set(src.get(i).getValue().getArray().toByteBuffer());
      }
      return net;
    }
  }

  /** Runs a {@link #plan()} into {@code runDir}; the trainer is handed to {@code started} first (for Ctrl-C). */
  public TrainedModel run(Plan plan, Path runDir, java.util.function.Consumer<Trainer> started) throws IOException {
    if (!plan.resume() && Files.exists(runDir.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException(runDir + " already holds a run; resume it or choose another directory");
    }
    RunConfig c = plan.config();
    if (flowMap != null && !c.objective().equals("mf") && !c.objective().equals("sct")) {
      throw new IllegalArgumentException("flow-map settings (--mf-unequal, --mf-power, --scm-p-mean, --scm-p-std) "
          + "apply to objectives mf and sct, not " + c.objective());
    }
    if (flow != null && !flow.objective().equals(c.objective())) {
      throw new IllegalArgumentException("the flow spec is for objective " + flow.objective() + " but the run's objective is "
          + c.objective());
    }
    try (NDManager m = org.diffusion4j.device.Devices.newManager(device)) {
      Engine.getInstance().setRandomSeed((int) (c.training().seed() & 0x7fffffff));
      Block network = m.getDevice().isGpu() ? initialisedOnCpu(c, m) : TrainedModel.newNetwork(c, m);
      Trainer t;
      if (org.diffusion4j.train.transport.FlowSpec.handles(c.objective())) {
        org.diffusion4j.train.transport.FlowSpec spec = plan.resume()
            ? org.diffusion4j.train.transport.FlowSpec.read(Checkpoint.readConfig(runDir), runDir.toString())
            : flow != null ? flow : org.diffusion4j.train.transport.FlowSpec.defaults(c.objective());
        t = org.diffusion4j.train.transport.FlowTraining.trainer(c, spec, plan.data(), network, runDir, listener);
      } else if (org.diffusion4j.train.distill.FlowMapRuns.isFlowMap(c.objective())) {
        org.diffusion4j.train.distill.FlowMapSettings mfs = plan.resume()
            ? org.diffusion4j.train.distill.FlowMapSettings.read(Checkpoint.readConfig(runDir), runDir.toString())
            : flowMap != null ? flowMap : org.diffusion4j.train.distill.FlowMapSettings.DEFAULT;
        t = org.diffusion4j.train.distill.FlowMapRuns.fromScratch(c, mfs, network,
            Trainer.Batches.of(plan.data(), c.classes() > 0), runDir, listener);
      } else {
        Objective objective = c.objectiveValue();
        if (c.classes() > 0 && (c.objective().equals("ism") || c.objective().equals("ssm"))) {
          throw new IllegalArgumentException("objective " + c.objective() + " trains unconditional models; drop the class "
              + "labels or use a denoising objective (edm)");
        }
        org.diffusion4j.train.loop.TrainingLoss loss = switch (c.objective()) {
          case "ism" -> ScoreMatchingLoss.explicit(objective);
          case "ssm" -> ScoreMatchingLoss.sliced(objective, 1);
          default -> new DenoisingLoss(objective, Trainer.MODEL, c.labelDropout());
        };
        t = new Trainer(Map.of(Trainer.MODEL, new NetworkDenoiser(network, objective.preconditioning())),
            Map.of(), Map.of(), loss,
            Trainer.Batches.of(plan.data(), c.classes() > 0), c.training().options(), runDir, c.toJson(), listener);
      }
      if (budget != null) {
        t.budget(budget);
      }
      started.accept(t);
      t.run(plan.resume());
    }
    return TrainedModel.load(runDir, true);
  }

  private TrainedModel run(Plan plan, Path runDir) throws IOException {
    return run(plan, runDir, t -> {});
  }
}
