package org.diffusion4j.process;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * The built-in forward processes, by CLI identifier, with the seeds' and papers' defaults.
 *
 * <p>Identifiers: {@code edm}, {@code ve}, {@code vp}, {@code vp-cosine}, {@code subvp}, {@code flow},
 * {@code trig}, {@code ddpm}.
 */
public final class Processes {
  /** Every identifier {@link #byId} accepts. */
  public static final List<String> IDS =
      List.of("edm", "ve", "vp", "vp-cosine", "subvp", "flow", "trig", "ddpm");

  private Processes() {}

  /** The process with this identifier and its default parameters. */
  public static NoiseProcess byId(String id) {
    switch (id.toLowerCase(Locale.ROOT)) {
      case "edm":
        return Edm.DEFAULT;
      case "ve":
        return VarianceExploding.DEFAULT;
      case "vp":
        return VpLinear.DEFAULT;
      case "vp-cosine":
        return VpCosine.DEFAULT;
      case "subvp":
        return SubVp.DEFAULT;
      case "flow":
        return RectifiedFlow.DEFAULT;
      case "trig":
        return Trigonometric.DEFAULT;
      case "ddpm":
        return DiscreteDdpm.DEFAULT;
      default:
        throw new IllegalArgumentException(
            "unknown process '" + id + "'; accepted: " + String.join(", ", IDS));
    }
  }

  /** The process and all its parameters as JSON, e.g. {@code {"id":"vp","beta_min":0.1,…}} (for run configs). */
  public static String toJson(NoiseProcess p) {
    return tree(p).toString();
  }

  static JsonObject tree(NoiseProcess p) {
    JsonObject o = new JsonObject();
    o.addProperty("id", p.id());
    if (p instanceof Edm e) {
      o.addProperty("sigma_min", e.sigmaMinValue());
      o.addProperty("sigma_max", e.sigmaMaxValue());
    } else if (p instanceof VarianceExploding v) {
      o.addProperty("sigma_min", v.sigmaMinValue());
      o.addProperty("sigma_max", v.sigmaMaxValue());
    } else if (p instanceof VpLinear v) {
      o.addProperty("beta_min", v.betaMin());
      o.addProperty("beta_max", v.betaMax());
      o.addProperty("t_min", v.tMinValue());
    } else if (p instanceof SubVp v) {
      o.addProperty("beta_min", v.betaMin());
      o.addProperty("beta_max", v.betaMax());
      o.addProperty("t_min", v.tMinValue());
    } else if (p instanceof VpCosine v) {
      o.addProperty("offset", v.offset());
      o.addProperty("t_min", v.tMinValue());
      o.addProperty("t_max", v.tMaxValue());
    } else if (p instanceof RectifiedFlow f) {
      o.addProperty("t_min", f.tMinValue());
      o.addProperty("t_max", f.tMaxValue());
    } else if (p instanceof Trigonometric f) {
      o.addProperty("t_min", f.tMinValue());
      o.addProperty("t_max", f.tMaxValue());
    } else if (p instanceof DiscreteDdpm d) {
      o.addProperty("betas_schedule", d.schedule());
      o.add("betas", new Gson().toJsonTree(d.betas()));
    } else {
      throw new IllegalArgumentException("cannot describe process " + p + " as JSON");
    }
    return o;
  }

  /** The inverse of {@link #toJson}; errors name the missing field. */
  public static NoiseProcess fromJson(String json) {
    JsonElement e;
    try {
      e = com.google.gson.JsonParser.parseString(json);
    } catch (com.google.gson.JsonParseException ex) {
      throw new IllegalArgumentException("process: not valid JSON (" + ex.getMessage() + ")");
    }
    if (e == null || !e.isJsonObject()) {
      throw new IllegalArgumentException("process: expected a JSON object, got " + json);
    }
    return fromTree(e.getAsJsonObject());
  }

  static NoiseProcess fromTree(JsonObject o) {
    String id = str(o, "id");
    switch (id) {
      case "edm":
        return new Edm(num(o, "sigma_min"), num(o, "sigma_max"));
      case "ve":
        return new VarianceExploding(num(o, "sigma_min"), num(o, "sigma_max"));
      case "vp":
        return new VpLinear(num(o, "beta_min"), num(o, "beta_max"), num(o, "t_min"));
      case "subvp":
        return new SubVp(num(o, "beta_min"), num(o, "beta_max"), num(o, "t_min"));
      case "vp-cosine":
        return new VpCosine(num(o, "offset"), num(o, "t_min"), num(o, "t_max"));
      case "flow":
        return new RectifiedFlow(num(o, "t_min"), num(o, "t_max"));
      case "trig":
        return new Trigonometric(num(o, "t_min"), num(o, "t_max"));
      case "ddpm": {
        JsonElement b = o.get("betas");
        if (b == null || !b.isJsonArray()) {
          throw new IllegalArgumentException("process JSON for ddpm needs a \"betas\" array");
        }
        JsonArray ba = b.getAsJsonArray();
        double[] betas = new double[ba.size()];
        for (int i = 0; i < betas.length; i++) {
          JsonElement v = ba.get(i);
          if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw new IllegalArgumentException("process JSON betas[" + i + "] must be a number, got "
                + org.diffusion4j.io.JsonText.kind(v));
          }
          betas[i] = v.getAsDouble();
        }
        return new DiscreteDdpm(betas, str(o, "betas_schedule"));
      }
      default:
        throw new IllegalArgumentException("unknown process '" + id + "'; accepted: " + String.join(", ", IDS));
    }
  }

  private static String str(JsonObject o, String k) {
    JsonElement e = o.get(k);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new IllegalArgumentException("process JSON field \"" + k + "\" must be a string, got "
          + org.diffusion4j.io.JsonText.kind(e));
    }
    return e.getAsString();
  }

  private static double num(JsonObject o, String k) {
    JsonElement e = o.get(k);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException("process JSON field \"" + k + "\" must be a number, got "
          + org.diffusion4j.io.JsonText.kind(e));
    }
    return e.getAsDouble();
  }

  static double requirePositive(String name, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + " must be a finite number > 0, got " + v);
    }
    return v;
  }

  static void requireOrdered(String lo, double a, String hi, double b) {
    if (!(a < b)) {
      throw new IllegalArgumentException(lo + " (" + a + ") must be < " + hi + " (" + b + ")");
    }
  }
}
