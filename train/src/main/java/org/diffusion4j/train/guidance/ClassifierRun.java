package org.diffusion4j.train.guidance;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.ClassifierLoss;
import org.diffusion4j.train.loss.SigmaDraw;
import org.diffusion4j.train.nn.ClassifierCnn;
import org.diffusion4j.train.nn.ClassifierMlp;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A trained noise-conditional classifier of points or images, stored as a run directory ({@code config.json}
 * of format {@value #FORMAT}, weights and EMA weights as the trainer writes them): a
 * {@link ClassifierMlp} (points) or {@link ClassifierCnn} (images) trained by {@link ClassifierLoss} with σ log-uniform over [σ_min, σ_max] and
 * EDM input scalings with the data's σ_data.
 */
public final class ClassifierRun implements AutoCloseable {
  /** Format tag of a classifier run's config. */
  public static final String FORMAT = "diffusion4j-classifier-1";

  /**
   * What defines a classifier run.
   *
   * @param data the data spec
   * @param dim data dimension (points only)
   * @param classes K
   * @param hidden width
   * @param blocks residual blocks
   * @param sigmaData σ_data of the input scaling
   * @param sigmaMin smallest σ trained on
   * @param sigmaMax largest σ trained on
   * @param steps optimiser steps
   * @param batch examples per step
   * @param lr learning rate (constant after 100 warm-up steps)
   * @param seed run seed
   * @param shape one sample's shape: {@code [dim]} for points (a {@link ClassifierMlp}), {@code [C, H, W]} for
   *     images (a {@link ClassifierCnn} of width {@code hidden}; {@code blocks} unused)
   */
  public record Config(String data, int dim, int classes, int hidden, int blocks, double sigmaData, double sigmaMin,
      double sigmaMax, long steps, int batch, double lr, long seed, long[] shape) {
    /** A classifier of points of dimension {@code dim}. */
    public Config(String data, int dim, int classes, int hidden, int blocks, double sigmaData, double sigmaMin,
        double sigmaMax, long steps, int batch, double lr, long seed) {
      this(data, dim, classes, hidden, blocks, sigmaData, sigmaMin, sigmaMax, steps, batch, lr, seed,
          new long[] {dim});
    }

    public Config {
      shape = shape.clone();
      if (!(shape.length == 1 || shape.length == 3) || java.util.Arrays.stream(shape).reduce(1, (u, v) -> u * v) != dim) {
        throw new IllegalArgumentException("a classifier takes points [d] or images [C, H, W] of " + dim
            + " values, got shape " + java.util.Arrays.toString(shape));
      }
      if (classes < 2) {
        throw new IllegalArgumentException("a classifier needs labelled data with at least 2 classes, got " + classes);
      }
      if (!(sigmaMin > 0 && sigmaMax > sigmaMin) || Double.isInfinite(sigmaMax)) {
        throw new IllegalArgumentException("classifier σ range must satisfy 0 < σ_min < σ_max < ∞, got [" + sigmaMin
            + ", " + sigmaMax + "]");
      }
      if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
        throw new IllegalArgumentException("sigma_data must be finite and > 0, got " + sigmaData);
      }
    }

    String toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("format", FORMAT);
      o.addProperty("data", data);
      o.addProperty("dim", dim);
      o.addProperty("classes", classes);
      o.addProperty("hidden", hidden);
      o.addProperty("blocks", blocks);
      o.addProperty("sigma_data", sigmaData);
      o.addProperty("sigma_min", sigmaMin);
      o.addProperty("sigma_max", sigmaMax);
      o.addProperty("steps", steps);
      o.addProperty("batch", batch);
      o.addProperty("lr", lr);
      o.addProperty("seed", seed);
      o.add("shape", new com.google.gson.Gson().toJsonTree(shape));
      return new GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    static Config fromJson(String json, String source) {
      JsonObject o;
      try {
        JsonElement e = JsonParser.parseString(json);
        o = e.getAsJsonObject();
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(source + ": not a JSON object");
      }
      JsonElement f = o.get("format");
      if (f == null || !f.isJsonPrimitive() || !FORMAT.equals(f.getAsString())) {
        throw new IllegalArgumentException(source + ": not a classifier run (format " + f + ", expected " + FORMAT
            + "; train one with d4j train-classifier)");
      }
      try {
        return new Config(o.get("data").getAsString(), o.get("dim").getAsInt(), o.get("classes").getAsInt(),
            o.get("hidden").getAsInt(), o.get("blocks").getAsInt(), o.get("sigma_data").getAsDouble(),
            o.get("sigma_min").getAsDouble(), o.get("sigma_max").getAsDouble(), o.get("steps").getAsLong(),
            o.get("batch").getAsInt(), o.get("lr").getAsDouble(), o.get("seed").getAsLong(),
            o.has("shape") ? new com.google.gson.Gson().fromJson(o.get("shape"), long[].class)
                : new long[] {o.get("dim").getAsInt()});
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(source + ": a field is missing or malformed (" + e.getMessage() + ")");
      }
    }
  }

  private final Config config;
  private final NDManager manager;
  private final ai.djl.nn.Block network;
  private final long step;

  private ClassifierRun(Config config, NDManager manager, ai.djl.nn.Block network, long step) {
    this.config = config;
    this.manager = manager;
    this.network = network;
    this.step = step;
  }

  private static ai.djl.nn.Block newNetwork(Config c, NDManager m) {
    if (c.shape().length == 3) {
      ClassifierCnn net = new ClassifierCnn((int) c.shape()[0], c.hidden(), c.classes());
      net.initialize(m, DataType.FLOAT32, new Shape(1, c.shape()[0], c.shape()[1], c.shape()[2]), new Shape(1));
      return net;
    }
    ClassifierMlp net = new ClassifierMlp(c.dim(), c.hidden(), c.blocks(), 32, c.classes());
    net.initialize(m, DataType.FLOAT32, new Shape(1, c.dim()), new Shape(1));
    return net;
  }

  /** The input scalings the classifier sees. */
  private static Preconditioning input(Config c) {
    return new Preconditioning.Edm(c.sigmaData());
  }

  /** Trains a classifier into {@code dir} (which must not hold a run) and loads its EMA weights. */
  public static ClassifierRun train(Config c, DataSource data, Path dir, Trainer.Listener listener) throws IOException {
    if (Files.exists(dir.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException(dir + " already holds a run; choose another directory");
    }
    if (!java.util.Arrays.equals(data.sampleShape(), c.shape())) {
      throw new IllegalArgumentException("the classifier is for samples of shape " + java.util.Arrays.toString(c.shape())
          + "; data '" + c.data()
          + "' has samples of shape " + java.util.Arrays.toString(data.sampleShape()));
    }
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Engine.getInstance().setRandomSeed((int) (c.seed() & 0x7fffffff));
      ai.djl.nn.Block net = newNetwork(c, m);
      Trainer t = new Trainer(Map.of(Trainer.MODEL, new NetworkDenoiser(net, input(c))), Map.of(), Map.of(),
          new ClassifierLoss(new SigmaDraw.LogUniform(c.sigmaMin(), c.sigmaMax()), Trainer.MODEL),
          Trainer.Batches.of(data, true), new Trainer.Options(c.steps(), c.batch(), 1,
              LrSchedule.constant(c.lr(), Math.min(100, c.steps() - 1)), 1.0, new Ema.WarmUp(0.999), c.seed(),
              (int) Math.max(1, c.steps() / 100), (int) Math.max(1, c.steps() / 2)),
          dir, c.toJson(), listener);
      t.run(false);
    }
    return load(dir);
  }

  /** Loads the classifier run in {@code dir} (EMA weights). */
  public static ClassifierRun load(Path dir) throws IOException {
    if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--classifier " + dir + ": no classifier run here (no " + Checkpoint.CONFIG
          + ")");
    }
    Config c = Config.fromJson(Checkpoint.readConfig(dir), dir.resolve(Checkpoint.CONFIG).toString());
    NDManager m = org.diffusion4j.device.Devices.newManager();
    try {
      ai.djl.nn.Block net = newNetwork(c, m);
      Map.Entry<Long, Map<String, org.diffusion4j.train.loop.Tensor>> w = Checkpoint.readWeightsWithStep(dir, true);
      Trainer.loadInto(Trainer.parameters(net), w.getValue(), dir.resolve(Checkpoint.EMA).toString());
      return new ClassifierRun(c, m, net, w.getKey());
    } catch (RuntimeException | IOException e) {
      m.close();
      throw e;
    }
  }

  /** The number of classes of the classifier run in {@code dir}, read from its config. */
  public static int classesOf(Path dir) throws IOException {
    if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--classifier " + dir + ": no classifier run here (no " + Checkpoint.CONFIG
          + ")");
    }
    return Config.fromJson(Checkpoint.readConfig(dir), dir.resolve(Checkpoint.CONFIG).toString()).classes();
  }

  /** A data set's labelled points as the classifier's config, with the given sizes. */
  public static Config plan(String data, int hidden, int blocks, double sigmaMin, double sigmaMax, long steps, int batch,
      double lr, long seed) {
    return plan(DataSources.parse(data), data, hidden, blocks, sigmaMin, sigmaMax, steps, batch, lr, seed);
  }

  /** As {@link #plan(String, int, int, double, double, long, int, double, long)} for an opened source. */
  public static Config plan(DataSource s, String data, int hidden, int blocks, double sigmaMin, double sigmaMax,
      long steps, int batch, double lr, long seed) {
    if (!s.hasLabels()) {
      throw new IllegalArgumentException("classifier training: data '" + data + "' has no labels");
    }
    long[] shape = s.sampleShape();
    if (shape.length != 1 && shape.length != 3) {
      throw new IllegalArgumentException("train-classifier handles points [d] and images [C, H, W]; data '" + data
          + "' has samples of shape " + java.util.Arrays.toString(shape));
    }
    int dim = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, (u, v) -> u * v));
    return new Config(data, dim, s.classes(), hidden, blocks, org.diffusion4j.train.Training.measureStd(s),
        sigmaMin, sigmaMax, steps, batch, lr, seed, shape);
  }

  /** The run's description. */
  public Config config() {
    return config;
  }

  /** Steps trained. */
  public long step() {
    return step;
  }

  /** The classifier for guidance. */
  public NetworkClassifier classifier() {
    return new NetworkClassifier(network, input(config), config.classes());
  }

  @Override
  public void close() {
    manager.close();
  }
}
