package org.diffusion4j.train.distill;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Distils a trained run (the teacher, frozen, EMA weights) into a few-step student run:
 * {@code cd} is consistency distillation (Song et al. 2023, Algorithm 2) with a Heun or Euler teacher
 * step on N Karras levels, the student initialised from the teacher's weights and θ⁻ the EMA of the
 * student (decay 0.95 by default, as the paper's CD). The student run stores objective {@code cd}, so
 * loading it gives the consistency-preconditioned model and sampling picks its flow-map sampler.
 *
 * <pre>{@code
 * try (TrainedModel s = Distillation.from(Path.of("runs/moons")).method("cd").steps(2000).run(Path.of("runs/moons-cd"))) {
 *   ...
 * }
 * }</pre>
 */
public final class Distillation {
  private final Path teacher;
  private String method = "cd";
  private long steps = 2000;
  private Integer batch;
  private Double lr;
  private Double emaDecay;
  private long seed = 0;
  private String teacherStep = "heun";
  private int levels = 18;
  private Trainer.Listener listener;

  private Distillation(Path teacher) {
    this.teacher = teacher;
  }

  /** Distils the run in {@code teacherRun}. */
  public static Distillation from(Path teacherRun) {
    return new Distillation(teacherRun);
  }

  /** Every method {@link #method} accepts. */
  public static final java.util.List<String> METHODS = java.util.List.of("cd", "pd", "guided-pd", "kd", "scd", "ctm",
      "dmd", "mf");

  /**
   * The method: {@code cd} (consistency distillation), {@code pd} (one progressive-distillation round),
   * {@code kd} (knowledge distillation into a one-step model), {@code scd} (continuous-time consistency
   * distillation, sCM), {@code ctm} (consistency trajectory model, two-time network), {@code dmd} (distribution
   * matching with a fake score) or {@code mf} (Mean Flow distillation, two-time network on the rectified flow).
   */
  public Distillation method(String id) {
    if (!METHODS.contains(id)) {
      throw new IllegalArgumentException("unknown distillation method '" + id + "'; accepted: "
          + String.join(", ", METHODS));
    }
    this.method = id;
    return this;
  }

  private int fakeUpdates = 1;
  private double dsmWeight = 1;
  private double guidanceLo = 0;
  private double guidanceHi = 4;

  /** guided-pd: the range of guidance scales w the student learns (0, 4; w = 1 is the conditional model). */
  public Distillation guidanceRange(double lo, double hi) {
    GuidedDistillationLoss.checkRange(lo, hi);
    this.guidanceLo = lo;
    this.guidanceHi = hi;
    return this;
  }

  /** dmd: fake-score updates per generator update K (1: DMD; 5: DMD2's two time-scale rule). */
  public Distillation fakeUpdates(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("--fake-updates must be >= 1, got " + k);
    }
    this.fakeUpdates = k;
    return this;
  }

  private double generatorLr = 1;
  /** The mf and scd knobs of a distillation by default: Geng et al.'s 0.25 and p = 1, Lu &amp; Song's sCD −0.8, 1.6. */
  public static final FlowMapSettings DEFAULT_SETTINGS = FlowMapSettings.DEFAULT.withScm(-0.8, 1.6);

  private FlowMapSettings settings = DEFAULT_SETTINGS;

  /** dmd: the generator's learning rate as a multiple of the fake score's (the run's) (1). */
  public Distillation generatorLrScale(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("--generator-lr-scale must be finite and > 0, got " + scale);
    }
    this.generatorLr = scale;
    return this;
  }

  /** mf: the share of examples with r &lt; t (0.25, Geng et al. 2025). */
  public Distillation meanFlowUnequal(double fraction) {
    settings = settings.withMeanFlow(fraction, settings.meanFlowPower());
    return this;
  }

  /**
   * mf: the exponent p of the adaptive loss weight 1/(‖Δ‖² + c)^p (1, Geng et al. 2025's best on images;
   * 0.5 is far better on 2-D data).
   */
  public Distillation meanFlowPower(double p) {
    settings = settings.withMeanFlow(settings.meanFlowUnequal(), p);
    return this;
  }

  /**
   * scd: the noise-level draw σ = e^τ, τ ~ N(pMean, pStd²) (−0.8, 1.6: Lu &amp; Song 2024's sCD choice;
   * −2.0 is far better on 2-D data).
   */
  public Distillation scmNoise(double pMean, double pStd) {
    settings = settings.withScm(pMean, pStd);
    return this;
  }

  private Double regressionWeight;
  private int regressionPairs = 1000;

  /**
   * dmd: the weight λ_reg of DMD's regression loss (0: none; default 0.25 as DMD for unconditional
   * teachers, 0 for class-conditional ones) and the number of teacher ODE solutions it regresses (1000;
   * solved once, Heun on {@code --levels} Karras steps, before training).
   */
  public Distillation regression(double weight, int pairs) {
    if (!(weight >= 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("--regression-weight must be finite and >= 0, got " + weight);
    }
    if (pairs < 1) {
      throw new IllegalArgumentException("--regression-pairs must be >= 1, got " + pairs);
    }
    this.regressionWeight = weight;
    this.regressionPairs = pairs;
    return this;
  }

  /** dmd: the number of teacher solutions of the regression loss, at its default weight (1000). */
  public Distillation regressionPairs(int pairs) {
    if (pairs < 1) {
      throw new IllegalArgumentException("--regression-pairs must be >= 1, got " + pairs);
    }
    this.regressionPairs = pairs;
    return this;
  }

  /** ctm: the weight λ_DSM of the denoising regulariser (1). */
  public Distillation dsmWeight(double w) {
    if (!(w >= 0) || Double.isInfinite(w)) {
      throw new IllegalArgumentException("--dsm-weight must be finite and >= 0, got " + w);
    }
    this.dsmWeight = w;
    return this;
  }

  /** Optimiser steps (2000). */
  public Distillation steps(long n) {
    this.steps = n;
    return this;
  }

  /** Batch size (the teacher's). */
  public Distillation batch(int n) {
    this.batch = n;
    return this;
  }

  /** Learning rate (the teacher's). */
  public Distillation lr(double lr) {
    this.lr = lr;
    return this;
  }

  /** EMA decay of the student, for cd also its target θ⁻ (cd: 0.95, pd: 0.999). */
  public Distillation ema(double decay) {
    this.emaDecay = decay;
    return this;
  }

  /** Seed (0). */
  public Distillation seed(long seed) {
    this.seed = seed;
    return this;
  }

  /** The teacher's ODE step: {@code heun} (default) or {@code euler}. */
  public Distillation teacherStep(String id) {
    TeacherStep.parse(id);
    this.teacherStep = id;
    return this;
  }

  /**
   * cd: the number of Karras levels N (18); pd: the student's number of DDIM steps N (the teacher takes 2N);
   * kd: the teacher's Heun steps.
   */
  public Distillation levels(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("--levels must be >= 1 (pd) or >= 2 (cd, ctm, kd), got " + n);
    }
    this.levels = n;
    return this;
  }

  /** Observer of training. */
  public Distillation listener(Trainer.Listener l) {
    this.listener = l;
    return this;
  }

  /** The student's configuration (nothing run). */
  public RunConfig studentConfig() throws IOException {
    RunConfig tc = RunConfig.fromJson(Checkpoint.readConfig(teacher), teacher.resolve(Checkpoint.CONFIG).toString());
    TrainSettings t = tc.training();
    TrainSettings st = new TrainSettings(steps, batch != null ? batch : t.batch(), 1, lr != null ? lr : t.lr(),
        Math.min(100, steps - 1), "cosine", t.clip(), emaDecay != null ? emaDecay
        : method.equals("cd") || method.equals("ctm") ? 0.95 : 0.999,
        0, seed, (int) Math.max(1, steps / 100),
        (int) Math.max(1, Math.min(Integer.MAX_VALUE, steps / 5)));
    // A pd student is an ordinary denoiser of the teacher's kind; cd and kd students are consistency models;
    // the others are runs of their own objective (mf on the rectified flow, whose path it learns).
    String objective = switch (method) {
      case "pd", "guided-pd" -> tc.objective();
      case "cd", "kd" -> "cd";
      default -> method;
    };
    org.diffusion4j.process.NoiseProcess process = method.equals("mf")
        ? org.diffusion4j.process.Processes.byId("flow") : tc.process();
    org.diffusion4j.train.nn.NetworkConfig network = tc.network();
    if (method.equals("guided-pd")) {
      if (tc.classes() == 0) {
        throw new IllegalArgumentException("--method guided-pd distils classifier-free guidance: the teacher must be "
            + "class-conditional (trained with --class-conditional), " + teacher + " is not");
      }
      if (!(network instanceof org.diffusion4j.train.nn.MlpConfig mlp)) {
        throw new IllegalArgumentException("--method guided-pd needs an MLP teacher (the w embedding is built for the "
            + "MLP only), got network type " + network.type());
      }
      if (mlp.guided()) {
        throw new IllegalArgumentException("the teacher " + teacher + " is already a guided student; run stage two "
            + "with --method pd");
      }
      network = mlp.withGuidance(guidanceLo, guidanceHi);
    }
    return new RunConfig(network, process, objective, tc.sigmaData(), tc.data(), tc.sampleShape(), tc.scaling(),
        tc.classes(), tc.resolution(), tc.flip(), st);
  }

  /** The key of the student's {@code config.json} under which a distillation records its settings. */
  public static final String NOTE = "distillation";

  /** Runs the distillation into the new directory {@code out}; returns the student (EMA weights). */
  public TrainedModel run(Path out) throws IOException {
    if (Files.exists(out.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException(out + " already holds a run; choose another directory");
    }
    return run(out, studentConfig(), false);
  }

  /** Whether {@code dir} holds a student run written by this class. */
  public static boolean isDistillationRun(Path dir) throws IOException {
    return Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))
        && JsonParser.parseString(Checkpoint.readConfig(dir)).getAsJsonObject().has(NOTE);
  }

  /**
   * Continues the distillation in {@code out} from its last checkpoint, to {@code steps} steps if given (else
   * its stored step count): teacher, method and every setting are those the run stored, and the steps taken
   * are exactly those of an uninterrupted run (the trainer's (seed, step) generators, the optimiser, EMA and
   * every network of the run restored).
   */
  public static TrainedModel resume(Path out, Long steps, Trainer.Listener listener) throws IOException {
    if (!isDistillationRun(out)) {
      throw new IllegalArgumentException("--resume: " + out + " holds no distillation run of d4j distill"
          + (Files.isRegularFile(out.resolve(Checkpoint.CONFIG)) ? " (continue a training run with d4j train --out "
          + out + " --resume)" : " (no " + Checkpoint.CONFIG + ")"));
    }
    if (steps != null && steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    JsonObject note = JsonParser.parseString(Checkpoint.readConfig(out)).getAsJsonObject().getAsJsonObject(NOTE);
    Path teacher = Path.of(note.get("teacher").getAsString());
    if (!Files.isRegularFile(teacher.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--resume: the teacher " + teacher + " of " + out + " is gone");
    }
    RunConfig rc = TrainedModel.readConfig(out);
    RunConfig sc = steps == null ? rc : rc.withTraining(rc.training().withSteps(steps));
    Distillation d = from(teacher).method(note.get("method").getAsString())
        .teacherStep(note.get("teacher_step").getAsString()).levels(note.get("levels").getAsInt())
        .fakeUpdates(note.get("fake_updates").getAsInt()).dsmWeight(note.get("dsm_weight").getAsDouble())
        .generatorLrScale(note.get("generator_lr_scale").getAsDouble())
        .meanFlowUnequal(note.get("mean_flow_unequal").getAsDouble())
        .meanFlowPower(note.has("mean_flow_power") ? note.get("mean_flow_power").getAsDouble() : 1)
        .scmNoise(note.has("scm_p_mean") ? note.get("scm_p_mean").getAsDouble() : DEFAULT_SETTINGS.scmPMean(),
            note.has("scm_p_std") ? note.get("scm_p_std").getAsDouble() : DEFAULT_SETTINGS.scmPStd())
        .regressionPairs(note.get("regression_pairs").getAsInt()).seed(sc.training().seed())
        .steps(sc.training().steps()).listener(listener);
    d.guidanceLo = note.get("guidance_lo").getAsDouble();
    d.guidanceHi = note.get("guidance_hi").getAsDouble();
    if (note.has("regression_weight")) {
      d.regressionWeight = note.get("regression_weight").getAsDouble();
    }
    return d.run(out, sc, true);
  }

  /** The settings {@link #resume} needs beyond the student's configuration. */
  private JsonObject note() {
    JsonObject n = new JsonObject();
    n.addProperty("teacher", teacher.toAbsolutePath().normalize().toString());
    n.addProperty("method", method);
    n.addProperty("teacher_step", teacherStep);
    n.addProperty("levels", levels);
    n.addProperty("fake_updates", fakeUpdates);
    n.addProperty("dsm_weight", dsmWeight);
    n.addProperty("guidance_lo", guidanceLo);
    n.addProperty("guidance_hi", guidanceHi);
    n.addProperty("generator_lr_scale", generatorLr);
    n.addProperty("mean_flow_unequal", settings.meanFlowUnequal());
    n.addProperty("mean_flow_power", settings.meanFlowPower());
    n.addProperty("scm_p_mean", settings.scmPMean());
    n.addProperty("scm_p_std", settings.scmPStd());
    if (regressionWeight != null) {
      n.addProperty("regression_weight", regressionWeight);
    }
    n.addProperty("regression_pairs", regressionPairs);
    return n;
  }

  private TrainedModel run(Path out, RunConfig sc, boolean resume) throws IOException {
    if (levels < 2 && !method.equals("pd")) {
      throw new IllegalArgumentException("--levels must be >= 2 for --method " + method + ", got " + levels);
    }
    DataOptions o = DataOptions.defaults();
    if (sc.resolution() > 0) {
      o = o.withResolution(sc.resolution());
    }
    DataSource data = DataSources.parse(sc.data(), o.withFlip(sc.flip()));
    try (TrainedModel tm = TrainedModel.load(teacher, true); NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Engine.getInstance().setRandomSeed((int) (seed & 0x7fffffff));
      Block student = TrainedModel.newNetwork(sc, m);
      boolean fromTeacher = !FlowMapRuns.twoTime(sc.objective());
      if (method.equals("scd") && !(tm.denoiser().preconditioning() instanceof Preconditioning.Edm e
          && e.sigmaData() == sc.sigmaData())) {
        throw new IllegalArgumentException("--method scd starts the student from an EDM teacher (objective edm); the "
            + "teacher's objective is " + tm.config().objective());
      }
      if (method.equals("guided-pd")) {
        loadGuided(student, Checkpoint.readWeightsWithStep(teacher, true).getValue(),
            teacher.resolve(Checkpoint.EMA).toString());
      } else if (fromTeacher) {
        Trainer.loadInto(Trainer.parameters(student), Checkpoint.readWeightsWithStep(teacher, true).getValue(),
            teacher.resolve(Checkpoint.EMA).toString());
      } else if (method.equals("ctm") && tm.denoiser().preconditioning().equals(sc.objectiveValue().preconditioning())) {
        // CTM starts from the teacher (Kim et al. 2024): its one-time weights, the second time's inputs zero.
        org.diffusion4j.train.nn.TwoTimeInit.load(student, Checkpoint.readWeightsWithStep(teacher, true).getValue(),
            teacher.resolve(Checkpoint.EMA).toString());
      }
      double sigmaMax = FlowMapRuns.sigmaMax(tm.config().process());
      double sigmaMin = Preconditioning.Consistency.DEFAULT_SIGMA_MIN;
      Preconditioning p = sc.objectiveValue().preconditioning();
      Map<String, NetworkDenoiser> nets = new java.util.LinkedHashMap<>();
      nets.put(Trainer.MODEL, new NetworkDenoiser(student, p));
      Map<String, java.util.function.Function<NDManager, Block>> twins = Map.of();
      org.diffusion4j.train.loop.TrainingLoss loss;
      switch (method) {
        case "pd": {
          ProgressiveDistillationLoss pd = new ProgressiveDistillationLoss(Trainer.MODEL, "teacher", pdGrid(sc));
          loss = sc.network() instanceof org.diffusion4j.train.nn.MlpConfig mlp && mlp.guided()
              ? pd.withGuidance(mlp.guidanceLo(), mlp.guidanceHi()) : pd;
          break;
        }
        case "guided-pd":
          loss = new GuidedDistillationLoss(Trainer.MODEL, "teacher", tm.config().objectiveValue(), guidanceLo,
              guidanceHi);
          break;
        case "kd":
          loss = new KnowledgeDistillationLoss(Trainer.MODEL, "teacher", new org.diffusion4j.sampling.ode.Heun(),
              org.diffusion4j.schedule.GridSpec.karras().build(sc.process(), levels));
          break;
        case "scd":
          nets.put(FlowMapRuns.WEIGHT, FlowMapRuns.adaptiveWeight(m, p));
          loss = ContinuousConsistencyLoss.distillation(Trainer.MODEL, "teacher", FlowMapRuns.WEIGHT, sc.sigmaData(),
              FlowMapRuns.warmup(steps), ContinuousConsistencyLoss.Tangent.NORMALISE, settings.scmPMean(),
              settings.scmPStd(), sigmaMax);
          break;
        case "ctm":
          twins = Map.of(Trainer.MODEL, mm -> TrainedModel.newNetwork(sc, mm));
          loss = new TrajectoryConsistencyLoss(Trainer.MODEL, "teacher", TeacherStep.parse(teacherStep), levels,
              sigmaMin, sigmaMax, dsmWeight, tm.config().objectiveValue());
          break;
        case "dmd": {
          Block fake = TrainedModel.newNetwork(tm.config(), m);
          Trainer.loadInto(Trainer.parameters(fake), Checkpoint.readWeightsWithStep(teacher, true).getValue(),
              teacher.resolve(Checkpoint.EMA).toString());
          nets.put(FlowMapRuns.FAKE, new NetworkDenoiser(fake, tm.denoiser().preconditioning()));
          DistributionMatchingLoss dmd = new DistributionMatchingLoss(Trainer.MODEL, FlowMapRuns.FAKE, "teacher",
              sigmaMin, sigmaMax, tm.config().objectiveValue(), fakeUpdates).generatorLrScale(generatorLr);
          double reg = regressionWeight != null ? regressionWeight : sc.classes() > 0 ? 0 : 0.25;
          if (reg > 0 && sc.classes() > 0) {
            throw new IllegalArgumentException("--regression-weight " + reg + ": DMD's regression loss is built for "
                + "unconditional teachers; this teacher is class-conditional (use --regression-weight 0)");
          }
          loss = reg > 0 ? dmd.withRegression(regressionPairs(tm.denoiser(), tm.config(), regressionPairs, levels, reg,
              sc.training().batch(), seed)) : dmd;
          break;
        }
        case "mf":
          loss = new MeanFlowLoss(Trainer.MODEL, "teacher", settings.meanFlowUnequal(), settings.meanFlowPower());
          break;
        default:
          twins = Map.of(Trainer.MODEL, mm -> TrainedModel.newNetwork(sc, mm));
          loss = ConsistencyLoss.distillation(Trainer.MODEL, "teacher", TeacherStep.parse(teacherStep), levels,
              sigmaMin, FlowMapRuns.sigmaMax(sc.process()), false, ConsistencyLoss.Target.EMA);
      }
      Trainer t = new Trainer(nets, Map.of("teacher", tm.denoiser()), twins, loss,
          Trainer.Batches.of(data, sc.classes() > 0), sc.training().options(), out, config(sc), listener);
      t.run(resume);
    }
    return TrainedModel.load(out, true);
  }

  /** The student's {@code config.json}: its run configuration and, under {@link #NOTE}, this distillation. */
  private String config(RunConfig sc) {
    JsonObject c = JsonParser.parseString(sc.toJson()).getAsJsonObject();
    c.add(NOTE, note());
    return c.toString();
  }

  /**
   * DMD's regression pairs: {@code pairs} prior draws z = σ_max ε (seeds 7 000 000 + 1000·seed + i) and the
   * teacher's Heun solutions from them on the {@code levels}-step Karras grid.
   */
  public static DistributionMatchingLoss.Regression regressionPairs(org.diffusion4j.denoiser.Denoiser teacherModel,
      RunConfig tc, int pairs, int levels, double weight, int batch, long seed) {
    org.diffusion4j.schedule.Grid g = org.diffusion4j.schedule.GridSpec.karras().build(tc.process(), levels);
    long[] seeds = new long[pairs];
    for (int i = 0; i < pairs; i++) {
      seeds[i] = 7_000_000L + 1000L * seed + i;
    }
    int d = Math.toIntExact(java.util.Arrays.stream(tc.sampleShape()).reduce(1, (a, b) -> a * b));
    double[] z = org.diffusion4j.sampling.Sampling.prior(g, seeds, d);
    for (int i = 0; i < z.length; i++) {
      z[i] /= g.s(0);
    }
    double[] y = org.diffusion4j.sampling.Sampling.of(teacherModel, tc.sampleShape())
        .sampler(new org.diffusion4j.sampling.ode.Heun()).grid(g).seeds(seeds).batch(Math.min(pairs, 500)).run()
        .samples();
    return new DistributionMatchingLoss.Regression(z, y, tc.sampleShape(), weight, batch);
  }

  /**
   * Loads an unguided teacher's tensors into its guided twin: every tensor by name, the w embedding's
   * (absent from the teacher) left at their initial values, whose zero last layer makes the student the
   * teacher at every w.
   */
  static void loadGuided(Block student, Map<String, org.diffusion4j.train.loop.Tensor> teacherTensors, String what) {
    Map<String, ai.djl.ndarray.NDArray> all = Trainer.parameters(student);
    Map<String, ai.djl.ndarray.NDArray> shared = new java.util.LinkedHashMap<>();
    all.forEach((name, a) -> {
      if (teacherTensors.containsKey(name)) {
        shared.put(name, a);
      } else if (!name.contains("guidance")) {
        throw new IllegalArgumentException(what + " has no tensor '" + name + "'; the teacher must have the student's "
            + "network shape");
      }
    });
    Trainer.loadInto(shared, teacherTensors, what);
  }

  /** The pd student's grid: the Karras grid of N steps on the run's process (what {@code --grid karras --steps N} builds). */
  private double[] pdGrid(RunConfig sc) {
    org.diffusion4j.schedule.Grid g = org.diffusion4j.schedule.GridSpec.karras().build(sc.process(), levels);
    double[] s = new double[g.size()];
    for (int i = 0; i < s.length; i++) {
      s[i] = g.sigma(i);
    }
    return s;
  }
}
