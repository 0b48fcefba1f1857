package org.diffusion4j.train.transport;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;

/**
 * Rectify and reflow (Liu et al. 2023, Algorithm 1): integrate the trained flow from fresh source
 * points z0 to z1 = Φ(z0), then train a new velocity field on the rectified path
 * {@code z_t = (1 − t) z0 + t z1} with target {@code z1 − z0} (the pairs are the coupling), and repeat.
 * Each round's transport cost is no larger than the previous coupling's (Jensen), and the flows
 * become straighter. Round k is a run directory of its own ({@code round-k}) holding its pairs.
 */
public final class Reflow {
  private Reflow() {}

  /**
   * A reflow's knobs.
   *
   * @param pairs (z0, z1) pairs generated per round
   * @param rounds rounds k
   * @param steps optimiser steps per round
   * @param batch batch size
   * @param lr peak learning rate
   * @param odeSteps steps of the ODE that generates the pairs
   * @param method its Runge–Kutta method
   * @param seed seed of the source draws and of training
   * @param warmStart start each round from the previous model's EMA weights (Liu et al. fine-tune)
   * @param distillSteps after the rounds, optimiser steps of a one-step distillation of the last flow (0: none)
   */
  public record Options(int pairs, int rounds, long steps, int batch, double lr, int odeSteps, FlowOde.Method method,
      long seed, boolean warmStart, long distillSteps) {

    /** Reflow without a final one-step distillation. */
    public Options(int pairs, int rounds, long steps, int batch, double lr, int odeSteps, FlowOde.Method method,
        long seed, boolean warmStart) {
      this(pairs, rounds, steps, batch, lr, odeSteps, method, seed, warmStart, 0);
    }

    public Options {
      if (distillSteps < 0) {
        throw new IllegalArgumentException("reflow: distillation steps must be >= 0, got " + distillSteps);
      }
      if (pairs < 1 || rounds < 0 || steps < 1 || batch < 1 || odeSteps < 1) {
        throw new IllegalArgumentException("reflow: pairs, steps, batch and ODE steps must be >= 1 and rounds >= 0, "
            + "got " + pairs + ", " + steps + ", " + batch + ", " + odeSteps + " and " + rounds);
      }
      if (rounds == 0 && distillSteps == 0) {
        throw new IllegalArgumentException("reflow: 0 rounds and no one-step distillation leave nothing to do");
      }
      if (!(lr > 0) || Double.isInfinite(lr)) {
        throw new IllegalArgumentException("reflow: lr must be a finite number > 0, got " + lr);
      }
    }
  }

  /** The flow spec of a run that reflow (and the transport report) can use, or an error naming it. */
  public static FlowSpec specOf(Path run) throws IOException {
    String text = Checkpoint.readConfig(run);
    RunConfig c = RunConfig.fromJson(text, run.resolve(Checkpoint.CONFIG).toString());
    FlowSpec spec = FlowSpec.read(text, run.toString());
    if (spec != null) {
      return spec;
    }
    if (c.objective().equals("flow")) {
      return FlowSpec.defaults("cfm");
    }
    throw new IllegalArgumentException(run + " was trained with objective " + c.objective()
        + ", not a flow (accepted: flow, " + String.join(", ", FlowSpec.OBJECTIVES) + ")");
  }

  /** Source draws of a run's flow, {@code n} points seeded by {@code seed}. */
  public static double[] sourceDraws(FlowSpec spec, long[] sampleShape, int n, long seed) {
    DataSource.HostBatch b = spec.sourceFor(sampleShape).sample(n, new SplittableRandom(seed));
    double[] x = new double[b.x().length];
    for (int i = 0; i < x.length; i++) {
      x[i] = b.x()[i];
    }
    return x;
  }

  /** Integrates {@code v} from {@code z0} in chunks of 1024 points. */
  public static double[] transport(VelocityField v, double[] z0, int n, int steps, FlowOde.Method method) {
    int d = z0.length / n;
    double[] out = new double[z0.length];
    for (int from = 0; from < n; from += 1024) {
      int k = Math.min(1024, n - from);
      double[] part = java.util.Arrays.copyOfRange(z0, from * d, (from + k) * d);
      System.arraycopy(FlowOde.integrate(v, part, k, steps, method), 0, out, from * d, k * d);
    }
    return out;
  }

  /**
   * One round: pairs from {@code teacher}, written to {@code roundDir/pairs.npy}, and a model trained on
   * them in {@code roundDir}.
   *
   * @param config the new run's configuration (network, data, shape; its training settings are used)
   * @param spec the flow spec of the teacher (its source)
   * @param init weights to start from, or null for a fresh network
   */
  public static void round(VelocityField teacher, RunConfig config, FlowSpec spec, Path roundDir, Options o,
      int round, java.util.Map<String, org.diffusion4j.train.loop.Tensor> init, Trainer.Listener listener)
      throws IOException {
    pairsAndTrain(teacher, config, spec, spec.reflow(FlowTraining.PAIRS), roundDir, o, round, init, listener);
  }

  /**
   * One-step distillation (Liu et al. 2023, sec. 2.3): generates {@code o.pairs()} pairs with
   * {@code teacher}'s ODE and trains a network at t = 0 only on them into {@code dir} (its config's training
   * settings), so that one Euler step is the teacher's map.
   */
  public static void distill(VelocityField teacher, RunConfig config, FlowSpec spec, Path dir, Options o,
      java.util.Map<String, org.diffusion4j.train.loop.Tensor> init, Trainer.Listener listener) throws IOException {
    pairsAndTrain(teacher, config, spec, spec.oneStep(FlowTraining.PAIRS), dir, o, o.rounds() + 1, init, listener);
  }

  private static void pairsAndTrain(VelocityField teacher, RunConfig config, FlowSpec spec, FlowSpec trained,
      Path dir, Options o, int round, java.util.Map<String, org.diffusion4j.train.loop.Tensor> init,
      Trainer.Listener listener) throws IOException {
    if (config.classes() > 0) {
      throw new IllegalArgumentException("reflow of class-conditional flows is not supported");
    }
    if (spec.oneStep()) {
      throw new IllegalArgumentException("a one-step distilled flow has no ODE to reflow or distil");
    }
    long[] shape = config.sampleShape();
    double[] z0 = sourceDraws(spec, shape, o.pairs(), o.seed() * 1_000_003L + round);
    double[] z1 = transport(teacher, z0, o.pairs(), o.odeSteps(), o.method());
    Files.createDirectories(dir);
    FlowTraining.writePairs(dir.resolve(FlowTraining.PAIRS), z0, z1, o.pairs(), shape);
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Engine.getInstance().setRandomSeed((int) ((o.seed() + round) & 0x7fffffff));
      Block net = TrainedModel.newNetwork(config, m);
      if (init != null) {
        Trainer.loadInto(Trainer.parameters(net), init, "the teacher's weights");
      }
      FlowTraining.trainer(config, trained, null, net, dir, listener).run(false);
    }
  }

  /** A round's run configuration: the teacher's network and data, the reflow's training settings. */
  private static RunConfig roundConfig(RunConfig base, FlowSpec spec, Options o, long steps, int round) {
    TrainSettings t = base.training();
    TrainSettings ts = new TrainSettings(steps, o.batch(), 1, o.lr(), Math.min(t.warmup(), steps - 1),
        t.lrSchedule(), t.clip(), t.emaDecay(), t.emaHalfLife(), o.seed() + round,
        (int) Math.max(1, steps / 20), (int) Math.max(1, steps));
    return new RunConfig(base.network(), base.process(), spec.objective(), base.sigmaData(), base.data(),
        base.sampleShape(), base.scaling(), 0, base.resolution(), base.flip(), ts);
  }

  /**
   * k rounds from the run in {@code model}, into {@code out/round-1 … round-k}, then (with
   * {@code distillSteps > 0}) a one-step distillation of the last round into {@code out/one-step}; returns the
   * run directories.
   */
  public static List<Path> run(Path model, Options o, Path out, Trainer.Listener listener,
      java.util.function.Consumer<String> log) throws IOException {
    FlowSpec spec = specOf(model);
    List<Path> rounds = new ArrayList<>();
    Path previous = model;
    for (int r = 1; r <= o.rounds(); r++) {
      Path dir = out.resolve("round-" + r);
      try (TrainedModel teacher = TrainedModel.load(previous, true)) {
        RunConfig base = teacher.config();
        RunConfig c = roundConfig(base, spec, o, o.steps(), r);
        VelocityField v = VelocityField.of(teacher.denoiser(), base.sampleShape(), Conditioning.NONE);
        log.accept("round " + r + ": " + o.pairs() + " pairs from " + previous + " (" + o.method().name().toLowerCase()
            + ", " + o.odeSteps() + " steps), training " + o.steps() + " steps into " + dir);
        round(v, c, spec, dir, o, r, o.warmStart() ? Checkpoint.readWeights(previous, true) : null, listener);
      }
      rounds.add(dir);
      previous = dir;
    }
    if (o.distillSteps() > 0) {
      Path dir = out.resolve("one-step");
      try (TrainedModel teacher = TrainedModel.load(previous, true)) {
        RunConfig c = roundConfig(teacher.config(), spec, o, o.distillSteps(), o.rounds() + 1);
        VelocityField v = VelocityField.of(teacher.denoiser(), c.sampleShape(), Conditioning.NONE);
        log.accept("one-step distillation: " + o.pairs() + " pairs from " + previous + ", training " + o.distillSteps()
            + " steps at t = 0 into " + dir);
        distill(v, c, spec, dir, o, Checkpoint.readWeights(previous, true), listener);
      }
      rounds.add(dir);
    }
    return rounds;
  }
}
