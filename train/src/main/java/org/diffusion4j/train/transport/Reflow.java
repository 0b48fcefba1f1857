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
   */
  public record Options(int pairs, int rounds, long steps, int batch, double lr, int odeSteps, FlowOde.Method method,
      long seed, boolean warmStart) {
    public Options {
      if (pairs < 1 || rounds < 1 || steps < 1 || batch < 1 || odeSteps < 1) {
        throw new IllegalArgumentException("reflow: pairs, rounds, steps, batch and ODE steps must be >= 1, got "
            + pairs + ", " + rounds + ", " + steps + ", " + batch + ", " + odeSteps);
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
    if (config.classes() > 0) {
      throw new IllegalArgumentException("reflow of class-conditional flows is not supported");
    }
    long[] shape = config.sampleShape();
    double[] z0 = sourceDraws(spec, shape, o.pairs(), o.seed() * 1_000_003L + round);
    double[] z1 = transport(teacher, z0, o.pairs(), o.odeSteps(), o.method());
    Files.createDirectories(roundDir);
    FlowTraining.writePairs(roundDir.resolve(FlowTraining.PAIRS), z0, z1, o.pairs(), shape);
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Engine.getInstance().setRandomSeed((int) ((o.seed() + round) & 0x7fffffff));
      Block net = TrainedModel.newNetwork(config, m);
      if (init != null) {
        Trainer.loadInto(Trainer.parameters(net), init, "the previous round's weights");
      }
      FlowTraining.trainer(config, spec.reflow(FlowTraining.PAIRS), null, net, roundDir, listener).run(false);
    }
  }

  /**
   * k rounds from the run in {@code model}, into {@code out/round-1 … round-k}; returns the round
   * directories.
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
        TrainSettings t = base.training();
        TrainSettings ts = new TrainSettings(o.steps(), o.batch(), 1, o.lr(), Math.min(t.warmup(), o.steps() - 1),
            t.lrSchedule(), t.clip(), t.emaDecay(), t.emaHalfLife(), o.seed() + r,
            (int) Math.max(1, o.steps() / 20), (int) Math.max(1, o.steps()));
        RunConfig c = new RunConfig(base.network(), base.process(), spec.objective(), base.sigmaData(), base.data(),
            base.sampleShape(), base.scaling(), 0, base.resolution(), base.flip(), ts);
        VelocityField v = VelocityField.of(teacher.denoiser(), base.sampleShape(), Conditioning.NONE);
        log.accept("round " + r + ": " + o.pairs() + " pairs from " + previous + " (" + o.method().name().toLowerCase()
            + ", " + o.odeSteps() + " steps), training " + o.steps() + " steps into " + dir);
        round(v, c, spec, dir, o, r, o.warmStart() ? Checkpoint.readWeights(previous, true) : null, listener);
      }
      rounds.add(dir);
      previous = dir;
    }
    return rounds;
  }
}
