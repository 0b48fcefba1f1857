package org.diffusion4j.train.nn.diffusers;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Locale;
import org.diffusion4j.process.DiscreteDdpm;

/**
 * What a diffusers {@code scheduler_config.json} says about the model (any of diffusers' DDPM-family
 * schedulers: DDPM, DDIM, PNDM, DPMSolverMultistep, Euler, …): the training noise schedule and what the
 * network predicts. The inference settings of the file ({@code timestep_spacing}, {@code steps_offset}) are
 * kept for display and for building the scheduler's own grids; sampling takes its grid from the user.
 *
 * @param className the scheduler class that wrote the file
 * @param trainSteps {@code num_train_timesteps}
 * @param betaSchedule {@code linear}, {@code scaled_linear}, {@code squaredcos_cap_v2} or {@code trained}
 * @param betaStart {@code beta_start}
 * @param betaEnd {@code beta_end}
 * @param trainedBetas {@code trained_betas}, or null
 * @param prediction {@code prediction_type}
 * @param clipSample whether the DDPM/DDIM schedulers clip the x0-estimate ({@code clip_sample})
 * @param clipSampleRange {@code clip_sample_range}
 * @param timestepSpacing {@code timestep_spacing} (diffusers' default {@code leading})
 * @param stepsOffset {@code steps_offset}
 */
public record SchedulerConfig(String className, int trainSteps, String betaSchedule, double betaStart, double betaEnd,
    double[] trainedBetas, Prediction prediction, boolean clipSample, double clipSampleRange, String timestepSpacing,
    int stepsOffset) {

  /** What the network outputs ({@code prediction_type}). */
  public enum Prediction {
    /** ε (Ho et al. 2020): {@code x0 = (x_t − σ_t ε)/α_t}. */
    EPSILON("epsilon"),
    /** x0 itself. */
    SAMPLE("sample"),
    /** v = α_t ε − σ_t x0 (Salimans &amp; Ho 2022): {@code x0 = α_t x_t − σ_t v}. */
    V_PREDICTION("v_prediction");

    private final String id;

    Prediction(String id) {
      this.id = id;
    }

    /** diffusers' name. */
    public String id() {
      return id;
    }

    /** Parses diffusers' name. */
    public static Prediction parse(String s) {
      for (Prediction p : values()) {
        if (p.id.equals(s)) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown prediction_type '" + s + "'; accepted: epsilon, sample, v_prediction");
    }
  }

  public SchedulerConfig {
    trainedBetas = trainedBetas == null ? null : trainedBetas.clone();
  }

  /** The discrete DDPM process of the schedule (Ho et al. 2020): ᾱ_t of the betas, σ_t = sqrt((1 − ᾱ_t)/ᾱ_t). */
  public DiscreteDdpm process() {
    return trainedBetas != null ? new DiscreteDdpm(trainedBetas, "trained")
        : DiscreteDdpm.of(trainSteps, betaSchedule, betaStart, betaEnd);
  }

  /** The standard DDPM schedule (1000 steps, linear 1e-4 → 0.02, ε-prediction). */
  public static SchedulerConfig ddpmDefault() {
    return new SchedulerConfig("DDPMScheduler", 1000, "linear", 1e-4, 0.02, null, Prediction.EPSILON, false, 1,
        "leading", 0);
  }

  /**
   * The {@code DDPMScheduler} config of a discrete DDPM process: its named beta schedule with the
   * {@code beta_start}/{@code beta_end} that rebuild exactly its betas (in double, as {@link #process} does),
   * else the betas themselves as {@code trained_betas}; {@code fixed_small} variance, no clipping,
   * {@code leading} spacing (diffusers' defaults).
   */
  public static SchedulerConfig forProcess(DiscreteDdpm p, Prediction prediction) {
    double[] b = p.betas();
    int n = b.length;
    String schedule = p.schedule();
    if (schedule.equals("squaredcos_cap_v2")) {
      if (java.util.Arrays.equals(b, DiscreteDdpm.of(n, schedule, 1e-4, 0.02).betas())) {
        return new SchedulerConfig("DDPMScheduler", n, schedule, 1e-4, 0.02, null, prediction, false, 1, "leading", 0);
      }
    } else if (schedule.equals("linear") || schedule.equals("scaled_linear")) {
      for (double start : shortest(b[0])) {
        for (double end : shortest(b[n - 1])) {
          try {
            if (java.util.Arrays.equals(b, DiscreteDdpm.of(n, schedule, start, end).betas())) {
              return new SchedulerConfig("DDPMScheduler", n, schedule, start, end, null, prediction, false, 1,
                  "leading", 0);
            }
          } catch (IllegalArgumentException e) {
            // not a valid pair: try the next
          }
        }
      }
    }
    return new SchedulerConfig("DDPMScheduler", n, "trained", b[0], b[n - 1], b, prediction, false, 1, "leading", 0);
  }

  /** v rounded to 1..17 significant digits (shortest first), v itself last. */
  private static double[] shortest(double v) {
    double[] c = new double[18];
    for (int d = 1; d <= 17; d++) {
      c[d - 1] = new java.math.BigDecimal(v).round(new java.math.MathContext(d)).doubleValue();
    }
    c[17] = v;
    return c;
  }

  /**
   * This configuration as diffusers v0.25 writes a {@code DDPMScheduler}'s {@code scheduler_config.json}
   * (every key explicit; {@code variance_type} {@code fixed_small}).
   */
  public JsonObject toDiffusersJson() {
    JsonObject o = new JsonObject();
    o.addProperty("_class_name", "DDPMScheduler");
    o.addProperty("_diffusers_version", "0.25.0");
    o.addProperty("num_train_timesteps", trainSteps);
    o.addProperty("beta_start", betaStart);
    o.addProperty("beta_end", betaEnd);
    o.addProperty("beta_schedule", trainedBetas != null ? "linear" : betaSchedule);
    if (trainedBetas != null) {
      com.google.gson.JsonArray a = new com.google.gson.JsonArray();
      for (double v : trainedBetas) {
        a.add(v);
      }
      o.add("trained_betas", a);
    } else {
      o.add("trained_betas", com.google.gson.JsonNull.INSTANCE);
    }
    o.addProperty("variance_type", "fixed_small");
    o.addProperty("clip_sample", clipSample);
    o.addProperty("prediction_type", prediction.id());
    o.addProperty("thresholding", false);
    o.addProperty("dynamic_thresholding_ratio", 0.995);
    o.addProperty("clip_sample_range", clipSampleRange);
    o.addProperty("sample_max_value", 1.0);
    o.addProperty("timestep_spacing", timestepSpacing);
    o.addProperty("steps_offset", stepsOffset);
    o.addProperty("rescale_betas_zero_snr", false);
    return o;
  }

  /** Parses {@code scheduler_config.json}; {@code source} names the file in errors. */
  public static SchedulerConfig parse(String json, String source) {
    try {
      JsonElement e = JsonParser.parseString(json);
      if (!e.isJsonObject()) {
        throw new IllegalArgumentException("not a JSON object");
      }
      JsonObject o = e.getAsJsonObject();
      if (o.has("rescale_betas_zero_snr") && o.get("rescale_betas_zero_snr").getAsBoolean()) {
        throw new IllegalArgumentException("rescale_betas_zero_snr = true (ᾱ_T = 0, infinite σ) is not supported");
      }
      double[] trained = null;
      if (o.has("trained_betas") && !o.get("trained_betas").isJsonNull()) {
        var a = o.get("trained_betas").getAsJsonArray();
        trained = new double[a.size()];
        for (int i = 0; i < trained.length; i++) {
          trained[i] = a.get(i).getAsDouble();
        }
      }
      String schedule = trained != null ? "trained" : str(o, "beta_schedule", "linear").toLowerCase(Locale.ROOT);
      if (trained == null && !schedule.equals("linear") && !schedule.equals("scaled_linear")
          && !schedule.equals("squaredcos_cap_v2")) {
        throw new IllegalArgumentException("unsupported beta_schedule '" + schedule
            + "'; accepted: linear, scaled_linear, squaredcos_cap_v2 (or trained_betas)");
      }
      int steps = trained != null ? trained.length : (int) num(o, "num_train_timesteps", 1000);
      SchedulerConfig c = new SchedulerConfig(str(o, "_class_name", "?"), steps, schedule,
          num(o, "beta_start", 1e-4), num(o, "beta_end", 0.02), trained,
          Prediction.parse(str(o, "prediction_type", "epsilon")),
          o.has("clip_sample") && !o.get("clip_sample").isJsonNull() && o.get("clip_sample").getAsBoolean(),
          num(o, "clip_sample_range", 1), str(o, "timestep_spacing", "leading"), (int) num(o, "steps_offset", 0));
      c.process();
      return c;
    } catch (JsonParseException | IllegalStateException | UnsupportedOperationException e) {
      throw new IllegalArgumentException(source + ": malformed scheduler config (" + e.getMessage() + ")", e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static String str(JsonObject o, String key, String dflt) {
    return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : dflt;
  }

  private static double num(JsonObject o, String key, double dflt) {
    return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsDouble() : dflt;
  }

  /** One line for {@code d4j info}. */
  public String describe() {
    return String.format(Locale.ROOT, "%s, %d training timesteps, %s betas%s, prediction %s%s, spacing %s%s",
        className, trainSteps, betaSchedule, trainedBetas != null ? ""
            : String.format(Locale.ROOT, " %s → %s", betaStart, betaEnd), prediction.id(),
        clipSample ? ", clip_sample ±" + clipSampleRange : "", timestepSpacing,
        stepsOffset != 0 ? " (steps_offset " + stepsOffset + ")" : "");
  }
}
