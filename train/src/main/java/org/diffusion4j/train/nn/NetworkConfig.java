package org.diffusion4j.train.nn;

import ai.djl.nn.Block;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * The shape of a raw network F, as stored in a checkpoint's JSON config: {@code {"type": "mlp"|"unet"|"diffusers-unet2d",
 * …fields}}. {@link #build()} makes the (uninitialised) DJL block.
 */
public sealed interface NetworkConfig permits MlpConfig, UNetConfig, DiffusersUNetConfig {

  /** {@code mlp}, {@code unet} or {@code diffusers-unet2d}. */
  String type();

  /** A new, uninitialised network of this shape. */
  Block build();

  /** This config as pretty-printed JSON, a {@code type} field first. */
  default String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("type", type());
    JsonObject fields = Json.GSON.toJsonTree(this).getAsJsonObject();
    fields.entrySet().forEach(en -> o.add(en.getKey(), en.getValue()));
    return Json.GSON.toJson(o);
  }

  /** Parses {@link #toJson()}'s output. */
  static NetworkConfig fromJson(String json) {
    try {
      return fromJsonTree(JsonParser.parseString(json));
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("network config is not valid JSON: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a config tree; fields missing from it that have defaults (the optional ones: layerNorm,
   * embedding, heads, downsample) take their default values, so configs written with only the
   * required fields load.
   */
  private static NetworkConfig fromJsonTree(JsonElement json) {
    if (json == null || !json.isJsonObject() || !json.getAsJsonObject().has("type")) {
      throw new IllegalArgumentException("network config must be a JSON object with a \"type\" field");
    }
    JsonObject o = json.getAsJsonObject().deepCopy();
    String type = o.remove("type").getAsString();
    switch (type) {
      case "mlp":
        Json.fillDefaults(o, MlpConfig.toy(2), "layerNorm", "embedding", "guidanceLo", "guidanceHi");
        return Json.parse(o, MlpConfig.class);
      case "unet":
        Json.fillDefaults(o, UNetConfig.mnist(), "heads", "embedding", "downsample");
        return Json.parse(o, UNetConfig.class);
      case DiffusersUNetConfig.TYPE: {
        JsonElement u = o.get("unet");
        if (u == null || !u.isJsonObject()) {
          throw new IllegalArgumentException("network config of type " + type + " needs a \"unet\" object "
              + "(diffusers' UNet2DModel config.json)");
        }
        return new DiffusersUNetConfig(org.diffusion4j.train.nn.diffusers.UNet2DConfig.parse(u.toString(),
            "network config \"unet\""));
      }
      default:
        throw new IllegalArgumentException("unknown network type '" + type + "'; accepted: mlp, unet, "
            + DiffusersUNetConfig.TYPE);
    }
  }

  /** The shared Gson instance and helpers. */
  final class Json {
    static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
        .create();

    private Json() {}

    static void fillDefaults(JsonObject o, NetworkConfig defaults, String... optional) {
      JsonObject d = GSON.toJsonTree(defaults).getAsJsonObject();
      for (String name : optional) {
        if (!o.has(name)) {
          o.add(name, d.get(name));
        }
      }
    }

    static <T> T parse(JsonObject o, Class<T> type) {
      try {
        return GSON.fromJson(o, type);
      } catch (RuntimeException e) {
        // A record constructor's validation error arrives wrapped by Gson's reflection.
        for (Throwable c = e; c != null; c = c.getCause()) {
          if (c instanceof IllegalArgumentException) {
            throw (IllegalArgumentException) c;
          }
        }
        throw new IllegalArgumentException("bad " + type.getSimpleName() + " JSON: " + e.getMessage(), e);
      }
    }
  }
}
