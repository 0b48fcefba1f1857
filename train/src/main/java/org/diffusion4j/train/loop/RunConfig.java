package org.diffusion4j.train.loop;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkConfig;

/**
 * Everything that defines a trained model, as stored in a run's {@code config.json}: the raw network's
 * shape, the process, the objective (hence preconditioning, weighting and σ-draw), σ_data, and the data
 * (spec, sample shape, scaling, classes), plus the training options for the record.
 *
 * @param network the raw network F
 * @param process the forward process trained on (the default for sampling)
 * @param objective objective identifier ({@link Objective#IDS})
 * @param sigmaData σ_data of the preconditioning
 * @param data the {@code --data} spelling
 * @param sampleShape one sample's shape, e.g. [2] or [1, 28, 28]
 * @param scaling stored = scale·raw + shift
 * @param classes number of classes (0: unconditional)
 * @param training the training options, for the record
 */
public record RunConfig(NetworkConfig network, NoiseProcess process, String objective, double sigmaData,
    String data, long[] sampleShape, DataSource.Affine scaling, int classes, JsonObject training) {

  /** Format tag of the config file. */
  public static final String FORMAT = "diffusion4j-run-1";

  /** The objective this run was trained with (its preconditioning makes F a denoiser). */
  public Objective objectiveValue() {
    return Objective.of(objective, process, sigmaData);
  }

  /** The JSON form. */
  public JsonObject toJson() {
    Gson g = new Gson();
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.add("network", network.toJsonTree());
    o.add("process", Processes.toJson(process));
    o.addProperty("objective", objective);
    o.addProperty("preconditioning", objectiveValue().preconditioning().id());
    o.addProperty("sigma_data", sigmaData);
    JsonObject d = new JsonObject();
    d.addProperty("spec", data);
    d.add("sample_shape", g.toJsonTree(sampleShape));
    d.addProperty("scale", scaling.scale());
    d.addProperty("shift", scaling.shift());
    d.addProperty("classes", classes);
    o.add("data", d);
    o.add("training", training == null ? new JsonObject() : training);
    return o;
  }

  /** Reads the JSON form; errors name the missing or bad field. */
  public static RunConfig fromJson(JsonObject o) {
    JsonElement f = o.get("format");
    if (f == null || !FORMAT.equals(f.getAsString())) {
      throw new IllegalArgumentException("config.json is not a Diffusion4J run (format " + f + ", expected " + FORMAT + ")");
    }
    JsonObject d = obj(o, "data");
    return new RunConfig(NetworkConfig.fromJsonTree(o.get("network")), Processes.fromJson(obj(o, "process")),
        o.get("objective").getAsString(), o.get("sigma_data").getAsDouble(), d.get("spec").getAsString(),
        new Gson().fromJson(d.get("sample_shape"), long[].class),
        new DataSource.Affine(d.get("scale").getAsDouble(), d.get("shift").getAsDouble()), d.get("classes").getAsInt(),
        o.has("training") ? o.getAsJsonObject("training") : new JsonObject());
  }

  private static JsonObject obj(JsonObject o, String k) {
    JsonElement e = o.get(k);
    if (e == null || !e.isJsonObject()) {
      throw new IllegalArgumentException("config.json lacks the object \"" + k + "\"");
    }
    return e.getAsJsonObject();
  }
}
