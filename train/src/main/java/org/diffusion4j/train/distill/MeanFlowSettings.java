package org.diffusion4j.train.distill;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The two knobs of a Mean Flow run trained from scratch (Geng et al. 2025), stored in the run's
 * {@code config.json} under {@code "mean_flow"} so that {@code --resume} continues with them: the share of
 * pairs with r ≠ t (the rest train u(x, t, t) = v, plain flow matching) and the power p of the adaptive
 * weight 1/(‖Δ‖² + c)^p (p = 0: the squared error; p = 1: the paper's choice).
 *
 * @param unequal fraction of r ≠ t pairs, in [0, 1]
 * @param power adaptive-weight power p, finite and ≥ 0
 */
public record MeanFlowSettings(double unequal, double power) {
  /** Geng et al.'s defaults: 25 % r ≠ t, p = 1. */
  public static final MeanFlowSettings DEFAULT = new MeanFlowSettings(0.25, 1);

  public MeanFlowSettings {
    if (!(unequal >= 0 && unequal <= 1)) {
      throw new IllegalArgumentException("--mf-unequal must lie in [0, 1], got " + unequal);
    }
    if (!(power >= 0) || Double.isInfinite(power)) {
      throw new IllegalArgumentException("--mf-power must be finite and >= 0, got " + power);
    }
  }

  /** The loss these settings describe, for the network named {@code model} (no teacher). */
  public MeanFlowLoss loss(String model) {
    return new MeanFlowLoss(model, null, unequal, power);
  }

  /** A run's config text with these settings under {@code "mean_flow"}. */
  public String embedInto(String configJson) {
    JsonObject o = JsonParser.parseString(configJson).getAsJsonObject();
    JsonObject m = new JsonObject();
    m.addProperty("unequal", unequal);
    m.addProperty("power", power);
    o.add("mean_flow", m);
    return new GsonBuilder().setPrettyPrinting().create().toJson(o);
  }

  /** The settings stored in a run's config text; {@link #DEFAULT} when it has none (runs from before they were stored). */
  public static MeanFlowSettings read(String configJson, String where) {
    JsonElement e = JsonParser.parseString(configJson).getAsJsonObject().get("mean_flow");
    if (e == null || e.isJsonNull()) {
      return DEFAULT;
    }
    try {
      JsonObject o = e.getAsJsonObject();
      return new MeanFlowSettings(o.get("unequal").getAsDouble(), o.get("power").getAsDouble());
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(where + ": bad \"mean_flow\" section: " + ex.getMessage(), ex);
    } catch (RuntimeException ex) {
      throw new IllegalArgumentException(where + ": bad \"mean_flow\" section (needs numbers unequal and power): "
          + e, ex);
    }
  }
}
