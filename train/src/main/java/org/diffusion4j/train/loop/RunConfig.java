package org.diffusion4j.train.loop;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkConfig;

/**
 * Everything that defines a trained model, as stored in a run's {@code config.json}: the raw network's
 * shape, the process, the objective (hence preconditioning, weighting and σ-draw), σ_data, the data
 * (spec, sample shape, scaling, classes, image options) and the training loop's settings.
 *
 * @param network the raw network F
 * @param process the forward process trained on (the default for sampling)
 * @param objective objective identifier ({@link Objective#IDS})
 * @param sigmaData σ_data of the preconditioning
 * @param data the {@code --data} spelling
 * @param sampleShape one sample's shape, e.g. [2] or [1, 28, 28]
 * @param scaling stored = scale·raw + shift
 * @param classes number of classes (0: unconditional)
 * @param resolution image side used to read image folders (0: not an image folder)
 * @param flip random horizontal flips of images
 * @param training the loop's settings
 * @param labelDropout probability of dropping a label to the null class in class-conditional training
 */
public record RunConfig(NetworkConfig network, NoiseProcess process, String objective, double sigmaData,
    String data, long[] sampleShape, DataSource.Affine scaling, int classes, int resolution, boolean flip,
    TrainSettings training, double labelDropout) {

  /** A run without label dropout. */
  public RunConfig(NetworkConfig network, NoiseProcess process, String objective, double sigmaData,
      String data, long[] sampleShape, DataSource.Affine scaling, int classes, int resolution, boolean flip,
      TrainSettings training) {
    this(network, process, objective, sigmaData, data, sampleShape, scaling, classes, resolution, flip, training, 0);
  }

  /** Format tag of the config file. */
  public static final String FORMAT = "diffusion4j-run-1";

  public RunConfig {
    if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
      throw new IllegalArgumentException("sigma_data must be a finite number > 0, got " + sigmaData);
    }
    if (!Objective.IDS.contains(objective)) {
      throw new IllegalArgumentException("unknown objective '" + objective + "'; accepted: "
          + String.join(", ", Objective.IDS));
    }
    if (sampleShape.length == 0) {
      throw new IllegalArgumentException("sample shape must have at least one dimension");
    }
    for (long v : sampleShape) {
      if (v < 1) {
        throw new IllegalArgumentException("sample shape " + java.util.Arrays.toString(sampleShape)
            + " has a dimension < 1");
      }
    }
    if (classes < 0) {
      throw new IllegalArgumentException("classes must be >= 0, got " + classes);
    }
    if (!(labelDropout >= 0 && labelDropout < 1)) {
      throw new IllegalArgumentException("label dropout must be in [0, 1), got " + labelDropout);
    }
    sampleShape = sampleShape.clone();
  }

  /** The objective this run was trained with (its preconditioning makes F a denoiser). */
  public Objective objectiveValue() {
    return Objective.of(objective, process, sigmaData);
  }

  /** One sample's shape. */
  @Override
  public long[] sampleShape() {
    return sampleShape.clone();
  }

  /** This config with other training settings. */
  public RunConfig withTraining(TrainSettings t) {
    return new RunConfig(network, process, objective, sigmaData, data, sampleShape, scaling, classes, resolution, flip, t,
        labelDropout);
  }

  /** The JSON text of {@code config.json}. */
  public String toJson() {
    Gson g = new Gson();
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.add("network", JsonParser.parseString(network.toJson()));
    o.add("process", JsonParser.parseString(Processes.toJson(process)));
    o.addProperty("objective", objective);
    o.addProperty("preconditioning", objectiveValue().preconditioning().id());
    o.addProperty("sigma_data", sigmaData);
    JsonObject d = new JsonObject();
    d.addProperty("spec", data);
    d.add("sample_shape", g.toJsonTree(sampleShape));
    d.addProperty("scale", scaling.scale());
    d.addProperty("shift", scaling.shift());
    d.addProperty("classes", classes);
    d.addProperty("resolution", resolution);
    d.addProperty("flip", flip);
    o.add("data", d);
    JsonObject t = new JsonObject();
    t.addProperty("steps", training.steps());
    t.addProperty("batch", training.batch());
    t.addProperty("accumulate", training.accumulate());
    t.addProperty("lr", training.lr());
    t.addProperty("warmup", training.warmup());
    t.addProperty("lr_schedule", training.lrSchedule());
    t.addProperty("clip", training.clip());
    t.addProperty("ema", training.emaDecay());
    t.addProperty("ema_half_life", training.emaHalfLife());
    t.addProperty("seed", training.seed());
    t.addProperty("log_every", training.logEvery());
    t.addProperty("checkpoint_every", training.checkpointEvery());
    t.addProperty("label_dropout", labelDropout);
    o.add("training", t);
    return new GsonBuilder().setPrettyPrinting().create().toJson(o);
  }

  /** Reads the JSON text of {@code config.json}; errors name {@code source} and the missing or bad field. */
  public static RunConfig fromJson(String json, String source) {
    JsonElement root;
    try {
      root = JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException(source + ": not valid JSON");
    }
    if (root == null || !root.isJsonObject()) {
      throw new IllegalArgumentException(source + ": not a JSON object");
    }
    JsonObject o = root.getAsJsonObject();
    JsonElement f = o.get("format");
    if (f == null || !f.isJsonPrimitive() || !FORMAT.equals(f.getAsString())) {
      throw new IllegalArgumentException(source + ": not a Diffusion4J run (format " + f + ", expected " + FORMAT + ")");
    }
    try {
      JsonObject d = obj(o, "data", source);
      JsonObject t = obj(o, "training", source);
      long[] shape;
      try {
        shape = new Gson().fromJson(req(d, "sample_shape", source, "data."), long[].class);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(source + ": data.sample_shape must be an array of integers");
      }
      TrainSettings ts = new TrainSettings(num(t, "steps", source).longValue(), num(t, "batch", source).intValue(),
          num(t, "accumulate", source).intValue(), num(t, "lr", source).doubleValue(),
          num(t, "warmup", source).longValue(), str(t, "lr_schedule", source, "training."),
          num(t, "clip", source).doubleValue(), num(t, "ema", source).doubleValue(),
          num(t, "ema_half_life", source).doubleValue(), num(t, "seed", source).longValue(),
          num(t, "log_every", source).intValue(), num(t, "checkpoint_every", source).intValue());
      return new RunConfig(NetworkConfig.fromJson(req(o, "network", source, "").toString()),
          Processes.fromJson(obj(o, "process", source).toString()), str(o, "objective", source, ""),
          numIn(o, "sigma_data", source, "").doubleValue(), str(d, "spec", source, "data."), shape,
          new DataSource.Affine(numIn(d, "scale", source, "data.").doubleValue(),
              numIn(d, "shift", source, "data.").doubleValue()),
          numIn(d, "classes", source, "data.").intValue(),
          d.has("resolution") ? numIn(d, "resolution", source, "data.").intValue() : 0,
          d.has("flip") && d.get("flip").isJsonPrimitive() && d.get("flip").getAsBoolean(), ts,
          t.has("label_dropout") ? num(t, "label_dropout", source).doubleValue() : 0);
    } catch (IllegalArgumentException e) {
      throw e.getMessage() != null && e.getMessage().startsWith(source) ? e
          : new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static JsonElement req(JsonObject o, String k, String source, String path) {
    JsonElement e = o.get(k);
    if (e == null || e.isJsonNull()) {
      throw new IllegalArgumentException(source + ": lacks \"" + path + k + "\"");
    }
    return e;
  }

  private static JsonObject obj(JsonObject o, String k, String source) {
    JsonElement e = req(o, k, source, "");
    if (!e.isJsonObject()) {
      throw new IllegalArgumentException(source + ": \"" + k + "\" must be an object");
    }
    return e.getAsJsonObject();
  }

  private static String str(JsonObject o, String k, String source, String path) {
    JsonElement e = req(o, k, source, path);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException(source + ": \"" + path + k + "\" must be a string, got " + e);
    }
    return e.getAsString();
  }

  private static Number num(JsonObject t, String k, String source) {
    return numIn(t, k, source, "training.");
  }

  private static Number numIn(JsonObject o, String k, String source, String path) {
    JsonElement e = req(o, k, source, path);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException(source + ": \"" + path + k + "\" must be a number, got " + e);
    }
    return e.getAsNumber();
  }
}
