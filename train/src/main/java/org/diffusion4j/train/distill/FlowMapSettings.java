package org.diffusion4j.train.distill;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The knobs of flow-map runs trained from scratch, stored in the run's {@code config.json} under
 * {@code "flow_map"} so that {@code --resume} continues with them.
 *
 * <p>Mean Flows ({@code mf}; Geng et al. 2025): the share of pairs with r ≠ t (the rest train u(x, t, t) = v,
 * plain flow matching) and the power p of the adaptive weight 1/(‖Δ‖² + c)^p (p = 0: the squared error;
 * p = 1: the paper's choice). Continuous-time consistency training ({@code sct}; Lu &amp; Song 2024): the
 * lognormal draw of the noise level, σ = e^τ with τ ~ N(P_mean, P_std²) (their CIFAR-10 sCT choice −1.0, 1.4).
 *
 * @param meanFlowUnequal fraction of r ≠ t pairs, in [0, 1]
 * @param meanFlowPower adaptive-weight power p, finite and ≥ 0
 * @param scmPMean mean of log σ in sCT, finite
 * @param scmPStd standard deviation of log σ in sCT, finite and > 0
 */
public record FlowMapSettings(double meanFlowUnequal, double meanFlowPower, double scmPMean, double scmPStd) {
  /** The papers' defaults: 25 % r ≠ t, p = 1; P_mean −1.0, P_std 1.4. */
  public static final FlowMapSettings DEFAULT = new FlowMapSettings(0.25, 1, -1.0, 1.4);

  public FlowMapSettings {
    if (!(meanFlowUnequal >= 0 && meanFlowUnequal <= 1)) {
      throw new IllegalArgumentException("--mf-unequal must lie in [0, 1], got " + meanFlowUnequal);
    }
    if (!(meanFlowPower >= 0) || Double.isInfinite(meanFlowPower)) {
      throw new IllegalArgumentException("--mf-power must be finite and >= 0, got " + meanFlowPower);
    }
    if (!Double.isFinite(scmPMean)) {
      throw new IllegalArgumentException("--scm-p-mean must be finite, got " + scmPMean);
    }
    if (!(scmPStd > 0) || Double.isInfinite(scmPStd)) {
      throw new IllegalArgumentException("--scm-p-std must be finite and > 0, got " + scmPStd);
    }
  }

  /** These settings with other Mean Flow knobs. */
  public FlowMapSettings withMeanFlow(double unequal, double power) {
    return new FlowMapSettings(unequal, power, scmPMean, scmPStd);
  }

  /** These settings with another sCT noise-level draw. */
  public FlowMapSettings withScm(double pMean, double pStd) {
    return new FlowMapSettings(meanFlowUnequal, meanFlowPower, pMean, pStd);
  }

  /** The Mean Flow loss these settings describe, for the network named {@code model} (no teacher). */
  public MeanFlowLoss meanFlowLoss(String model) {
    return new MeanFlowLoss(model, null, meanFlowUnequal, meanFlowPower);
  }

  /** A run's config text with these settings under {@code "flow_map"}. */
  public String embedInto(String configJson) {
    JsonObject o = JsonParser.parseString(configJson).getAsJsonObject();
    JsonObject m = new JsonObject();
    m.addProperty("mf_unequal", meanFlowUnequal);
    m.addProperty("mf_power", meanFlowPower);
    m.addProperty("scm_p_mean", scmPMean);
    m.addProperty("scm_p_std", scmPStd);
    o.add("flow_map", m);
    return new GsonBuilder().setPrettyPrinting().create().toJson(o);
  }

  /** The settings stored in a run's config text; {@link #DEFAULT} when it has none (runs from before they were stored). */
  public static FlowMapSettings read(String configJson, String where) {
    JsonElement e = JsonParser.parseString(configJson).getAsJsonObject().get("flow_map");
    if (e == null || e.isJsonNull()) {
      return DEFAULT;
    }
    try {
      JsonObject o = e.getAsJsonObject();
      return new FlowMapSettings(o.get("mf_unequal").getAsDouble(), o.get("mf_power").getAsDouble(),
          o.get("scm_p_mean").getAsDouble(), o.get("scm_p_std").getAsDouble());
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(where + ": bad \"flow_map\" section: " + ex.getMessage(), ex);
    } catch (RuntimeException ex) {
      throw new IllegalArgumentException(where + ": bad \"flow_map\" section (needs numbers mf_unequal, mf_power, "
          + "scm_p_mean, scm_p_std): " + e, ex);
    }
  }
}
