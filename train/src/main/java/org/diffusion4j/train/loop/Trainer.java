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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.tensor.Scalars;

/**
 * The training loop: per step, draw the batches, ask the {@link TrainingLoss} for the loss of each
 * micro-batch, back-propagate, clip, take an AdamW step and update the EMA of every trainable network
 * (Ho et al. 2020, Algorithm 1; Karras et al. 2022, Algorithm of Appendix C for the EMA).
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
      double seconds, Map<String, Double> metrics) {
    public StepLog {
      metrics = Map.copyOf(metrics);
    }
  }

  /** Observes training; the progress bar, sample grids and loss plots are listeners. */
  public interface Listener {
    /** After each logged step. */
    default void onLog(StepLog log) {}

    /** After each checkpoint, with the EMA denoiser's parameters loaded into {@code ema}. */
    default void onCheckpoint(long step, Map<String, NDArray> ema) {}
  }

  /** The name of the trained network of a single-network run. */
  public static final String MODEL = "model";

  /** One trainable network's parameters, optimiser and average. */
  private static final class Slot {
    final String name;
    final String prefix;
    final NetworkDenoiser model;
    final Map<String, NDArray> params;
    final AdamW adam = AdamW.defaults();
    Ema ema;

    Slot(String name, boolean primary, NetworkDenoiser model) {
      this.name = name;
      this.prefix = primary ? "" : name + "/";
      this.model = model;
      this.params = parameters(model.network());
    }
  }

  private final Map<String, NetworkDenoiser> trainable;
  private final Map<String, Denoiser> frozen;
  private final Map<String, Function<NDManager, Block>> twins;
  private final TrainingLoss loss;
  private final Batches data;
  private final Options opt;
  private final Path runDir;
  private final String config;
  private final Listener listener;
  private final List<Slot> slots = new ArrayList<>();
  private volatile boolean stopRequested;
  private volatile long budgetNanos = Long.MAX_VALUE;
  private boolean budgetSpent;
  private long loopNanos;
  private long lastCheckpoint = -1;

  /**
   * A single-network run of a denoising objective (the classic case).
   *
   * @param net an initialised raw network F taking {@code NDList(x, cNoise[, labels])}
   * @param objective preconditioning, weighting and σ-draw
   * @param data batches
   * @param opt loop options
   * @param runDir the run directory (checkpoint and {@code metrics.jsonl})
   * @param config the run's description (JSON text), stored in the checkpoint as {@code config.json}
   * @param listener observer (may be null)
   */
  public Trainer(Block net, Objective objective, Batches data, Options opt, Path runDir, String config,
      Listener listener) {
    this(Map.of(MODEL, new NetworkDenoiser(net, objective.preconditioning())), Map.of(), Map.of(),
        new DenoisingLoss(objective), data, opt, runDir, config, listener);
  }

  /**
   * Any loss over any set of networks.
   *
   * @param trainable the networks to train, by name, in a stable order (the first is the primary one:
   *     its tensors keep their plain names in the checkpoint, the others are prefixed {@code name/})
   * @param frozen networks the loss reads but never updates (teacher, reference, classifier)
   * @param twins for trainable networks whose EMA the loss uses as a target network, a factory of an
   *     initialised network of the same shape
   * @param loss what is learned
   * @param data batches
   * @param opt loop options
   * @param runDir the run directory
   * @param config the run's description (JSON text), stored as {@code config.json}
   * @param listener observer (may be null)
   */
  public Trainer(Map<String, NetworkDenoiser> trainable, Map<String, Denoiser> frozen,
      Map<String, Function<NDManager, Block>> twins, TrainingLoss loss, Batches data, Options opt, Path runDir,
      String config, Listener listener) {
    if (trainable.isEmpty()) {
      throw new IllegalArgumentException("a training run needs at least one trainable network");
    }
    for (String k : twins.keySet()) {
      if (!trainable.containsKey(k)) {
        throw new IllegalArgumentException("target twin '" + k + "' names no trainable network " + trainable.keySet());
      }
    }
    this.trainable = Collections.unmodifiableMap(new LinkedHashMap<>(trainable));
    this.frozen = Map.copyOf(frozen);
    this.twins = Map.copyOf(twins);
    this.loss = loss;
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
    loadInto(params, tensors, "", what);
  }

  private static void loadInto(Map<String, NDArray> params, Map<String, Tensor> tensors, String prefix, String what) {
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      Tensor t = tensors.get(prefix + e.getKey());
      if (t == null) {
        throw new IllegalArgumentException(what + " has no tensor '" + prefix + e.getKey() + "'");
      }
      NDArray dst = e.getValue();
      if (!java.util.Arrays.equals(t.shape(), dst.getShape().getShape())) {
        throw new IllegalArgumentException(what + " tensor '" + prefix + e.getKey() + "' has shape "
            + java.util.Arrays.toString(t.shape()) + " but the network expects " + dst.getShape());
      }
      try (NDArray src = t.toNDArray(dst.getManager())) {
        dst.set(src.toType(dst.getDataType(), false).toByteBuffer());
      }
    }
  }

  private static Map<String, Tensor> withPrefix(Map<String, Tensor> all, String prefix) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        String rest = k.substring(prefix.length());
        if (prefix.isEmpty() && rest.contains("/")) {
          return;
        }
        out.put(rest, v);
      }
    });
    return out;
  }

  /** The step's generator: a pure function of (seed, step). */
  static SplittableRandom stepRng(long seed, long step) {
    return new SplittableRandom(new SplittableRandom(seed).split().nextLong() ^ (step * 0x9E3779B97F4A7C15L));
  }

  /**
   * Asks a running {@link #run} to stop at the end of the current step; it then writes a checkpoint at
   * that step and returns (Ctrl-C in the CLI). Safe to call from any thread.
   */
  public void requestStop() {
    stopRequested = true;
  }

  /**
   * A wall-clock budget for {@link #run}: a step starts only while less than {@code budget} has passed
   * since the loop began (setup and a resumed checkpoint's loading are not counted), so the run ends at
   * the last full step, writes its checkpoint (weights, optimiser and EMA of that step) and returns, as on
   * {@link #requestStop}. The run's step count stays an upper bound. A cosine learning-rate schedule then
   * decays with the budget as well as with the steps ({@link LrSchedule#at(long, double)}: the clock's
   * progress counts from the end of warm-up), so it reaches its minimum when the budget ends; such a run's
   * learning rates follow the clock, so two runs (or a resumed one, whose budget starts afresh) differ after
   * warm-up. A constant schedule ignores the clock.
   *
   * @param budget the wall time, &gt; 0
   * @return this trainer
   */
  public Trainer budget(java.time.Duration budget) {
    if (budget == null || budget.isNegative() || budget.isZero()) {
      throw new IllegalArgumentException("a training time budget must be > 0, got " + budget);
    }
    budgetNanos = budget.toNanos();
    return this;
  }

  /** The fraction of the budget left after warm-up that has passed at {@code now}; 0 without a budget. */
  private double budgetProgress(long now, long t0, long warmupEnd, long step) {
    if (budgetNanos == Long.MAX_VALUE || step < opt.lr().warmupSteps()) {
      return 0;
    }
    long rest = budgetNanos - (warmupEnd - t0);
    return rest <= 0 ? 1 : Math.min(1.0, (double) (now - warmupEnd) / rest);
  }

  /** Whether the last {@link #run} ended because its {@link #budget} was spent. */
  public boolean budgetSpent() {
    return budgetSpent;
  }

  /**
   * The wall time of the last {@link #run}'s loop: from its first step's start to the end of its last
   * full step (the final checkpoint's write not included).
   */
  public java.time.Duration lastRunTime() {
    return java.time.Duration.ofNanos(loopNanos);
  }

  /** The step of the last checkpoint this trainer wrote or resumed from, or −1 if none. */
  public long lastCheckpoint() {
    return lastCheckpoint;
  }

  /**
   * Trains from scratch, or from the checkpoint in the run directory when {@code resume} is set.
   *
   * @return the per-step losses of the steps taken in this call, in order
   * @throws TrainingDivergedException when the loss or a gradient norm turns non-finite (the last
   *     checkpoint is left as it was)
   */
  public List<Double> run(boolean resume) throws IOException {
    NDManager root = trainable.values().iterator().next().network().getParameters().get(0).getValue().getArray()
        .getManager();
    boolean primary = true;
    for (Map.Entry<String, NetworkDenoiser> e : trainable.entrySet()) {
      slots.add(new Slot(e.getKey(), primary, e.getValue()));
      primary = false;
    }
    long start = 0;
    if (resume) {
      Checkpoint c = Checkpoint.load(runDir);
      for (Slot s : slots) {
        loadInto(s.params, withPrefix(c.weights(), s.prefix), "", "checkpoint weights");
        s.adam.load(toArrays(root, withPrefix(c.optimizer(), s.prefix)),
            Long.parseLong(c.state().getOrDefault("adam_steps/" + s.name, "" + c.step())), s.params);
        String key = "ema_updates" + (s.prefix.isEmpty() ? "" : "/" + s.name);
        s.ema = Ema.restore(root, withPrefix(c.ema(), s.prefix), opt.ema(),
            Long.parseLong(c.state().getOrDefault(key, "" + c.step())));
      }
      start = c.step();
      lastCheckpoint = start;
      truncateMetrics(start);
    } else {
      Files.createDirectories(runDir);
      Files.deleteIfExists(runDir.resolve("metrics.jsonl"));
      for (Slot s : slots) {
        s.ema = new Ema(root, s.params, opt.ema());
      }
    }
    Map<String, NetworkDenoiser> targetNets = new LinkedHashMap<>();
    try {
      if (start >= opt.steps()) {
        return List.of();
      }
      ParameterStore ps = new ParameterStore(root, false);
      List<Double> losses = new ArrayList<>();
      int micro = opt.batch() / opt.accumulate();
      long t0 = System.nanoTime();
      long windowStart = t0;
      long windowSteps = 0;
      budgetSpent = false;
      long warmupEnd = t0;
      for (long step = start; step < opt.steps(); step++) {
        boolean global = org.diffusion4j.lifecycle.StopRequest.requested();
        long stepStart = System.nanoTime();
        if (!stopRequested && !global && stepStart - t0 >= budgetNanos) {
          budgetSpent = true;
        }
        if (stopRequested || global || budgetSpent) {
          loopNanos = System.nanoTime() - t0;
          if (lastCheckpoint < step) {
            save(step);
          }
          if (global) {
            throw stopped(step, lastCheckpoint);
          }
          break;
        }
        double total;
        double gradNorm = 0;
        if (step == opt.lr().warmupSteps()) {
          warmupEnd = stepStart;
        }
        double lr = opt.lr().at(step, budgetProgress(stepStart, t0, warmupEnd, step));
        Map<String, Double> metrics = new LinkedHashMap<>();
        try (NDManager sm = root.newSubManager(); NDScope scope = new NDScope()) {
          SplittableRandom rng = stepRng(opt.seed(), step);
          Engine.getInstance().setRandomSeed((int) (rng.nextLong() & 0x7fffffff));
          Set<String> synced = new HashSet<>();
          Function<String, NetworkDenoiser> targets = name -> {
            Function<NDManager, Block> twin = twins.get(name);
            if (twin == null) {
              throw new IllegalArgumentException("trainable network '" + name + "' has no target twin; give the "
                  + "Trainer a factory for it");
            }
            NetworkDenoiser t = targetNets.computeIfAbsent(name, k -> {
              Block b = twin.apply(root);
              // Built inside the step's scope: keep its parameters past the step.
              b.getParameters().forEach(p -> NDScope.unregister(p.getValue().getArray()));
              return new NetworkDenoiser(b, trainable.get(k).preconditioning());
            });
            if (synced.add(name)) {
              Map<String, NDArray> arrays = new LinkedHashMap<>();
              t.network().getParameters().forEach(p -> arrays.put(p.getKey(), p.getValue().getArray()));
              slot(name).ema.copyTo(arrays);
            }
            return t;
          };
          double sum = 0;
          for (int a = 0; a < opt.accumulate(); a++) {
            DataSource.Batch b = data.next(sm, micro, rng);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              TrainingLoss.Value v = loss.compute(new StepContext(sm, rng, step, b, ps, trainable, frozen, targets));
              NDArray l = v.loss();
              gc.backward(opt.accumulate() == 1 ? l : Scalars.div(l, opt.accumulate()));
              sum += l.toType(DataType.FLOAT64, false).getDouble();
              v.metrics().forEach((k, x) -> metrics.merge(k, x / opt.accumulate(), Double::sum));
            }
          }
          total = sum / opt.accumulate();
          if (!Double.isFinite(total)) {
            throw diverged("the loss became " + total, step, lr);
          }
          boolean first = true;
          Set<String> updated = loss.updates(step);
          for (Slot s : slots) {
            if (updated != null && !updated.contains(s.name)) {
              AdamW.zeroGradients(s.params);
              continue;
            }
            List<NDArray> grads = new ArrayList<>();
            s.params.values().forEach(p -> grads.add(p.getGradient()));
            double norm = opt.clip() > 0 ? GradientClipping.clipGlobalNorm(grads, opt.clip())
                : GradientClipping.globalNorm(grads);
            if (!Double.isFinite(norm)) {
              // Checked before any update: the parameters are still those of the previous step.
              throw diverged("the gradient norm of '" + s.name + "' became " + norm + " (loss " + total
                  + "; first non-finite gradient: " + GradientClipping.firstNonFinite(s.params) + ")", step, lr);
            }
            if (first) {
              gradNorm = norm;
              first = false;
            } else {
              metrics.put("grad_norm/" + s.name, norm);
            }
            s.adam.update(s.params, lr * loss.lrScale(s.name));
            AdamW.zeroGradients(s.params);
            s.ema.update(s.params);
          }
        }
        losses.add(total);
        windowSteps++;
        long done = step + 1;
        if (done % opt.logEvery() == 0 || done == opt.steps()) {
          long now = System.nanoTime();
          double sps = windowSteps / ((now - windowStart) / 1e9);
          StepLog log = new StepLog(done, opt.steps(), total, lr, gradNorm, sps, (now - t0) / 1e9, metrics);
          appendMetrics(log);
          listener.onLog(log);
          windowStart = now;
          windowSteps = 0;
        }
        loopNanos = System.nanoTime() - t0;
        if (done % opt.checkpointEvery() == 0 || done == opt.steps()) {
          save(done);
          try {
            listener.onCheckpoint(done, slots.get(0).ema.averages());
          } catch (org.diffusion4j.lifecycle.StoppedException e) {
            // Stopped inside the checkpoint's preview: the checkpoint itself is complete.
            throw stopped(done, done);
          }
        }
      }
      return losses;
    } finally {
      for (NetworkDenoiser t : targetNets.values()) {
        t.network().getParameters().forEach(p -> p.getValue().getArray().close());
      }
      for (Slot s : slots) {
        if (s.ema != null) {
          s.ema.close();
        }
      }
      slots.clear();
    }
  }

  private Slot slot(String name) {
    for (Slot s : slots) {
      if (s.name.equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("no trainable network '" + name + "'");
  }

  private TrainingDivergedException diverged(String what, long step, double lr) {
    return new TrainingDivergedException(what, step, lr, runDir, lastCheckpoint);
  }

  private static Map<String, NDArray> toArrays(NDManager m, Map<String, Tensor> tensors) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    tensors.forEach((k, t) -> out.put(k, t.toNDArray(m)));
    return out;
  }

  /** The exception of a run stopped by a {@link org.diffusion4j.lifecycle.StopRequest} at {@code step}. */
  private org.diffusion4j.lifecycle.StoppedException stopped(long step, long checkpoint) {
    String why = org.diffusion4j.lifecycle.StopRequest.reason() + ": training stopped at step " + step + " of "
        + opt.steps();
    return new org.diffusion4j.lifecycle.StoppedException(checkpoint >= 0
        ? why + "; checkpoint of step " + checkpoint + " written in " + runDir
        : why + ", before its first checkpoint; nothing to resume in " + runDir, checkpoint, runDir);
  }

  private void save(long step) throws IOException {
    Map<String, Tensor> weights = new LinkedHashMap<>();
    Map<String, Tensor> averages = new LinkedHashMap<>();
    Map<String, Tensor> optimizer = new LinkedHashMap<>();
    Map<String, String> state = new LinkedHashMap<>();
    for (Slot s : slots) {
      Safetensors.toTensors(s.params).forEach((k, v) -> weights.put(s.prefix + k, v));
      s.ema.state().forEach((k, v) -> averages.put(s.prefix + k, v));
      Safetensors.toTensors(s.adam.state()).forEach((k, v) -> optimizer.put(s.prefix + k, v));
      state.put("ema_updates" + (s.prefix.isEmpty() ? "" : "/" + s.name), Long.toString(s.ema.updates()));
      state.put("adam_steps/" + s.name, Long.toString(s.adam.step()));
    }
    state.put("seed", Long.toString(opt.seed()));
    state.put("networks", String.join(",", trainable.keySet()));
    new Checkpoint(config, weights, averages, optimizer, step, state).save(runDir);
    lastCheckpoint = step;
  }

  private void appendMetrics(StepLog log) {
    StringBuilder extra = new StringBuilder();
    log.metrics().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> extra.append(
        String.format(Locale.ROOT, ",\"%s\":%.8g", e.getKey().replace("\"", "'"), e.getValue())));
    String line = String.format(Locale.ROOT,
        "{\"step\":%d,\"loss\":%.8g,\"lr\":%.6g,\"grad_norm\":%.6g,\"steps_per_s\":%.4g,\"time_s\":%.3f%s}%n",
        log.step(), log.loss(), log.lr(), log.gradNorm(), log.stepsPerSecond(), log.seconds(), extra);
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
