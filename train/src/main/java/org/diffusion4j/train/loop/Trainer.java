package org.diffusion4j.train.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.Objective;

/**
 * The training loop (SPEC A.1/A.2): draw a batch, a σ per example and ε, regress the preconditioned
 * network on the objective's weighted target, clip, take an AdamW step, update the EMA.
 *
 * <p>Reproducible and resumable: every step draws its data, σ's, ε's and dropout from generators
 * seeded by (seed, step), so a run resumed from a checkpoint at step k takes exactly the steps the
 * uninterrupted run would have taken. Memory runs flat: each step lives in its own sub-manager and
 * {@link NDScope}; only parameters, optimiser moments and EMA averages persist.
 */
public final class Trainer {

  /** Where batches come from; {@code rng} is the step's generator. */
  @FunctionalInterface
  public interface Batches {
    DataSource.Batch next(NDManager manager, int n, SplittableRandom rng);

    /** A data set's batches, with labels only when the network is class-conditional. */
    static Batches of(DataSource data, boolean labels) {
      return labels ? data::batchWithLabels : (m, n, rng) -> new DataSource.Batch(data.batch(m, n, rng), null);
    }
  }

  /**
   * The loop's knobs.
   *
   * @param steps total optimiser steps
   * @param batch examples per step (split over {@code accumulate} micro-batches)
   * @param accumulate gradient-accumulation micro-batches per step (1: none)
   * @param lr learning-rate schedule
   * @param clip maximum global gradient norm (0: no clipping)
   * @param ema EMA decay rule
   * @param seed the run's seed
   * @param logEvery steps between metrics lines
   * @param checkpointEvery steps between checkpoints (the last step always checkpoints)
   */
  public record Options(long steps, int batch, int accumulate, LrSchedule lr, double clip, Ema.Decay ema,
      long seed, int logEvery, int checkpointEvery) {
    public Options {
      if (steps < 1) {
        throw new IllegalArgumentException("steps must be >= 1, got " + steps);
      }
      if (batch < 1) {
        throw new IllegalArgumentException("batch must be >= 1, got " + batch);
      }
      if (accumulate < 1 || batch % accumulate != 0) {
        throw new IllegalArgumentException(
            "accumulate must be >= 1 and divide batch (" + batch + "), got " + accumulate);
      }
      if (clip < 0) {
        throw new IllegalArgumentException("clip must be >= 0 (0 disables), got " + clip);
      }
      if (logEvery < 1 || checkpointEvery < 1) {
        throw new IllegalArgumentException("log-every and checkpoint-every must be >= 1");
      }
    }
  }

  /** A logged step. */
  public record StepLog(long step, long steps, double loss, double lr, double gradNorm, double stepsPerSecond,
      double seconds) {}

  /** Observes training; the progress bar, sample grids and loss plots are listeners. */
  public interface Listener {
    /** After each logged step. */
    default void onLog(StepLog log) {}

    /** After each checkpoint, with the EMA denoiser's parameters loaded into {@code ema}. */
    default void onCheckpoint(long step, Map<String, NDArray> ema) {}
  }

  private final Block net;
  private final Objective objective;
  private final Batches data;
  private final Options opt;
  private final Path runDir;
  private final JsonObject config;
  private final Listener listener;

  /**
   * @param net an initialised raw network F taking {@code NDList(x, cNoise[, labels])}
   * @param objective preconditioning, weighting and σ-draw
   * @param data batches
   * @param opt loop options
   * @param runDir the run directory (checkpoint and {@code metrics.jsonl})
   * @param config the run's full description, stored in the checkpoint
   * @param listener observer (may be null)
   */
  public Trainer(Block net, Objective objective, Batches data, Options opt, Path runDir, JsonObject config,
      Listener listener) {
    this.net = net;
    this.objective = objective;
    this.data = data;
    this.opt = opt;
    this.runDir = runDir;
    this.config = config;
    this.listener = listener == null ? new Listener() {} : listener;
  }

  /** The network's parameters by their stable names. */
  public static Map<String, NDArray> parameters(Block net) {
    Map<String, NDArray> params = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : net.getParameters()) {
      NDArray a = p.getValue().getArray();
      if (!a.hasGradient()) {
        a.setRequiresGradient(true);
      }
      params.put(p.getKey(), a);
    }
    return params;
  }

  /** Copies named tensors into the matching parameter arrays (shapes must agree). */
  public static void loadInto(Map<String, NDArray> params, Map<String, Tensor> tensors, String what) {
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      Tensor t = tensors.get(e.getKey());
      if (t == null) {
        throw new IllegalArgumentException(what + " has no tensor '" + e.getKey() + "'");
      }
      NDArray dst = e.getValue();
      if (!java.util.Arrays.equals(t.shape(), dst.getShape().getShape())) {
        throw new IllegalArgumentException(what + " tensor '" + e.getKey() + "' has shape "
            + java.util.Arrays.toString(t.shape()) + " but the network expects " + dst.getShape());
      }
      try (NDArray src = t.toNDArray(dst.getManager())) {
        dst.set(src.toType(dst.getDataType(), false).toByteBuffer());
      }
    }
  }

  /** The step's generator: a pure function of (seed, step). */
  static SplittableRandom stepRng(long seed, long step) {
    return new SplittableRandom(new SplittableRandom(seed).split().nextLong() ^ (step * 0x9E3779B97F4A7C15L));
  }

  /**
   * Trains from scratch, or from the checkpoint in the run directory when {@code resume} is set.
   *
   * @return the per-step losses of the steps taken in this call, in order
   */
  public List<Double> run(boolean resume) throws IOException {
    NDManager root = net.getParameters().get(0).getValue().getArray().getManager();
    Map<String, NDArray> params = parameters(net);
    AdamW adam = AdamW.defaults();
    Ema ema;
    long start = 0;
    if (resume) {
      Checkpoint c = Checkpoint.load(runDir);
      loadInto(params, c.weights(), "checkpoint weights");
      adam.load(toArrays(root, c.optimizer()), c.step(), params);
      ema = Ema.restore(root, c.ema(), opt.ema(), Long.parseLong(c.state().getOrDefault("ema_updates", "" + c.step())));
      start = c.step();
      truncateMetrics(start);
    } else {
      Files.createDirectories(runDir);
      Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
      ema = new Ema(root, params, opt.ema());
    }
    if (start >= opt.steps()) {
      ema.close();
      return List.of();
    }
    ParameterStore ps = new ParameterStore(root, false);
    List<Double> losses = new ArrayList<>();
    int micro = opt.batch() / opt.accumulate();
    long t0 = System.nanoTime();
    long windowStart = t0;
    long windowSteps = 0;
    try {
      for (long step = start; step < opt.steps(); step++) {
        double loss;
        double gradNorm;
        double lr = opt.lr().at(step);
        try (NDManager sm = root.newSubManager(); NDScope scope = new NDScope()) {
          SplittableRandom rng = stepRng(opt.seed(), step);
          Engine.getInstance().setRandomSeed((int) (rng.nextLong() & 0x7fffffff));
          double sum = 0;
          for (int a = 0; a < opt.accumulate(); a++) {
            DataSource.Batch b = data.next(sm, micro, rng);
            double[] sigma = objective.draw().draw(micro, rng);
            NDArray eps = normals(sm, b.x(), rng);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray l = objective.perExampleLoss(b.x(), sigma, eps, (in, cNoise) -> {
                NDList input = b.labels() == null ? new NDList(in, cNoise) : new NDList(in, cNoise, b.labels());
                return net.forward(ps, input, true).singletonOrThrow();
              }).mean();
              gc.backward(opt.accumulate() == 1 ? l : l.div(opt.accumulate()));
              sum += l.toType(DataType.FLOAT64, false).getDouble();
            }
          }
          loss = sum / opt.accumulate();
          if (!Double.isFinite(loss)) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                "loss became %s at step %d (lr %.3g); lower --lr or set --clip; the last checkpoint in %s is intact",
                loss, step, lr, runDir));
          }
          List<NDArray> grads = new ArrayList<>();
          params.values().forEach(p -> grads.add(p.getGradient()));
          gradNorm = opt.clip() > 0 ? GradientClipping.clipGlobalNorm(grads, opt.clip())
              : GradientClipping.globalNorm(grads);
          adam.update(params, lr);
          AdamW.zeroGradients(params);
          ema.update(params);
        }
        losses.add(loss);
        windowSteps++;
        long done = step + 1;
        if (done % opt.logEvery() == 0 || done == opt.steps()) {
          long now = System.nanoTime();
          double sps = windowSteps / ((now - windowStart) / 1e9);
          StepLog log = new StepLog(done, opt.steps(), loss, lr, gradNorm, sps, (now - t0) / 1e9);
          appendMetrics(log);
          listener.onLog(log);
          windowStart = now;
          windowSteps = 0;
        }
        if (done % opt.checkpointEvery() == 0 || done == opt.steps()) {
          save(params, adam, ema, done);
          listener.onCheckpoint(done, ema.averages());
        }
      }
    } finally {
      ema.close();
    }
    return losses;
  }

  private static NDArray normals(NDManager m, NDArray like, SplittableRandom rng) {
    float[] v = new float[Math.toIntExact(like.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return m.create(v, like.getShape()).toType(like.getDataType(), false);
  }

  private static Map<String, NDArray> toArrays(NDManager m, Map<String, Tensor> tensors) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    tensors.forEach((k, t) -> out.put(k, t.toNDArray(m)));
    return out;
  }

  private void save(Map<String, NDArray> params, AdamW adam, Ema ema, long step) throws IOException {
    Map<String, String> state = new LinkedHashMap<>();
    state.put("ema_updates", Long.toString(ema.updates()));
    state.put("seed", Long.toString(opt.seed()));
    new Checkpoint(config, Safetensors.toTensors(params), ema.state(), Safetensors.toTensors(adam.state()), step,
        state).save(runDir);
  }

  private void appendMetrics(StepLog log) {
    String line = String.format(Locale.ROOT,
        "{\"step\":%d,\"loss\":%.8g,\"lr\":%.6g,\"grad_norm\":%.6g,\"steps_per_s\":%.4g,\"time_s\":%.3f}%n",
        log.step(), log.loss(), log.lr(), log.gradNorm(), log.stepsPerSecond(), log.seconds());
    try {
      Files.writeString(runDir.resolve("metrics.jsonl"), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** On resume, drops metric lines past the checkpoint so the file reads like one uninterrupted run. */
  private void truncateMetrics(long step) throws IOException {
    Path m = runDir.resolve("metrics.jsonl");
    if (!Files.exists(m)) {
      return;
    }
    StringBuilder kept = new StringBuilder();
    for (String line : Files.readAllLines(m, StandardCharsets.UTF_8)) {
      java.util.regex.Matcher s = java.util.regex.Pattern.compile("\"step\":(\\d+)").matcher(line);
      if (s.find() && Long.parseLong(s.group(1)) <= step) {
        kept.append(line).append('\n');
      }
    }
    AtomicFiles.write(m, kept.toString().getBytes(StandardCharsets.UTF_8));
  }
}
