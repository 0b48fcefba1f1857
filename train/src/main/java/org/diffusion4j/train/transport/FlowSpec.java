package org.diffusion4j.train.transport;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;

/**
 * A flow-matching run's transport choices, stored in the run's {@code config.json} under {@code "flow"}:
 * the source distribution, the coupling and the conditional path. The objectives as users know them:
 * <ul>
 *   <li>{@code cfm}: independent coupling, linear path with constant σ (Tong et al. 2024; default σ = 0,
 *       rectified flow of Liu et al. 2023);
 *   <li>{@code ot-cfm}: minibatch exact OT, linear path (Tong et al. 2024; Pooladian et al. 2023);
 *   <li>{@code sb-cfm}: minibatch entropic OT with ε = 2σ², Brownian bridge with σ (Tong et al. 2024;
 *       default σ = 0.5 for unit-variance data);
 *   <li>{@code fm}: independent coupling, Lipman et al. 2023's OT path with σ_min (default 1e-4).
 * </ul>
 *
 * @param objective one of {@link #OBJECTIVES}
 * @param source {@code gaussian} (N(0, I)) or a data spec ({@code 8-gaussians}, …)
 * @param coupling {@code independent}, {@code exact}, {@code sinkhorn} or {@code pairs}
 * @param perClass couple within the target's classes
 * @param path {@code linear}, {@code bridge}, {@code lipman}, {@code trig}, {@code vp}, {@code ve}
 * @param pathParameter σ, σ_min, β_max or σ_max of the path
 * @param epsilon Sinkhorn ε (sinkhorn coupling)
 * @param iterations Sinkhorn iteration cap
 * @param tolerance Sinkhorn marginal tolerance
 * @param pairs the stored pairs file of a reflow round ({@code pairs} coupling), else empty
 * @param oneStep a one-step distillation of a flow (Liu et al. 2023, sec. 2.3): the network is trained at t = 0
 *     only, on stored pairs, so that one Euler step {@code z0 + v(z0, 0)} is the map; it is sampled that way only
 */
public record FlowSpec(String objective, String source, String coupling, boolean perClass, String path,
    double pathParameter, double epsilon, int iterations, double tolerance, String pairs, boolean oneStep) {

  /** A spec of a flow sampled by its ODE (not a one-step distillation). */
  public FlowSpec(String objective, String source, String coupling, boolean perClass, String path,
      double pathParameter, double epsilon, int iterations, double tolerance, String pairs) {
    this(objective, source, coupling, perClass, path, pathParameter, epsilon, iterations, tolerance, pairs, false);
  }

  /** The flow-matching objectives. */
  public static final List<String> OBJECTIVES = List.of("cfm", "ot-cfm", "sb-cfm", "fm");

  public FlowSpec {
    if (!OBJECTIVES.contains(objective)) {
      throw new IllegalArgumentException("unknown flow-matching objective '" + objective + "'; accepted: "
          + String.join(", ", OBJECTIVES));
    }
    if (!List.of("independent", "exact", "sinkhorn", "pairs").contains(coupling)) {
      throw new IllegalArgumentException("unknown coupling '" + coupling + "'; accepted: independent, exact, sinkhorn");
    }
    ConditionalPath.parse(path, pathParameter);
    if (coupling.equals("sinkhorn")) {
      new Sinkhorn.Options(epsilon, iterations, tolerance);
    }
    if (coupling.equals("pairs") && (pairs == null || pairs.isEmpty())) {
      throw new IllegalArgumentException("a pairs coupling names its pairs file");
    }
    if (oneStep && !coupling.equals("pairs")) {
      throw new IllegalArgumentException("a one-step distillation trains on stored pairs, not a " + coupling
          + " coupling");
    }
    source = source == null || source.isBlank() ? "gaussian" : source;
    pairs = pairs == null ? "" : pairs;
  }

  /** Whether {@code objective} is trained by {@link FlowMatchingLoss}. */
  public static boolean handles(String objective) {
    return OBJECTIVES.contains(objective.toLowerCase(Locale.ROOT));
  }

  /** The defaults of an objective, from N(0, I). */
  public static FlowSpec defaults(String objective) {
    String o = objective.toLowerCase(Locale.ROOT);
    switch (o) {
      case "cfm":
        return new FlowSpec(o, "gaussian", "independent", false, "linear", 0, 1, 1000, 1e-6, "");
      case "ot-cfm":
        return new FlowSpec(o, "gaussian", "exact", false, "linear", 0, 1, 1000, 1e-6, "");
      case "sb-cfm":
        return new FlowSpec(o, "gaussian", "sinkhorn", false, "bridge", 0.5, 2 * 0.5 * 0.5, 1000, 1e-6, "");
      case "fm":
        return new FlowSpec(o, "gaussian", "independent", false, "lipman", 1e-4, 1, 1000, 1e-6, "");
      default:
        throw new IllegalArgumentException("unknown flow-matching objective '" + objective + "'; accepted: "
            + String.join(", ", OBJECTIVES));
    }
  }

  /** This spec from another source. */
  public FlowSpec withSource(String spec) {
    return new FlowSpec(objective, spec, coupling, perClass, path, pathParameter, epsilon, iterations, tolerance, pairs);
  }

  /** This spec with the path's σ (sb-cfm: also ε = 2σ²). */
  public FlowSpec withSigma(double sigma) {
    return new FlowSpec(objective, source, coupling, perClass, path, sigma,
        coupling.equals("sinkhorn") && path.equals("bridge") ? 2 * sigma * sigma : epsilon, iterations, tolerance, pairs);
  }

  /** This spec with another path. */
  public FlowSpec withPath(String id, double parameter) {
    return new FlowSpec(objective, source, coupling, perClass, id, parameter, epsilon, iterations, tolerance, pairs);
  }

  /** This spec with Sinkhorn's ε. */
  public FlowSpec withEpsilon(double eps) {
    return new FlowSpec(objective, source, coupling, perClass, path, pathParameter, eps, iterations, tolerance, pairs);
  }

  /** This spec coupling within classes. */
  public FlowSpec withPerClass(boolean on) {
    return new FlowSpec(objective, source, coupling, on, path, pathParameter, epsilon, iterations, tolerance, pairs);
  }

  /** A reflow round's spec: the stored pairs on the rectified (linear, σ = 0) path. */
  public FlowSpec reflow(String pairsFile) {
    return new FlowSpec(objective, source, "pairs", false, "linear", 0, epsilon, iterations, tolerance, pairsFile);
  }

  /** A one-step distillation on the stored pairs {@code pairsFile} (Liu et al. 2023, sec. 2.3). */
  public FlowSpec oneStep(String pairsFile) {
    return new FlowSpec(objective, source, "pairs", false, "linear", 0, epsilon, iterations, tolerance, pairsFile, true);
  }

  /** The conditional path. */
  public ConditionalPath conditionalPath() {
    return ConditionalPath.parse(path, pathParameter);
  }

  /** The minibatch coupling (not for {@code pairs}). */
  public Coupling minibatchCoupling() {
    return Coupling.parse(coupling, coupling.equals("sinkhorn") ? new Sinkhorn.Options(epsilon, iterations, tolerance)
        : null, perClass);
  }

  /** Whether the source is N(0, I) (the frame's samplers then apply to the rectified path). */
  public boolean gaussianSource() {
    return source.equals("gaussian");
  }

  /** The source distribution for a target of the given sample shape. */
  public DataSource sourceFor(long[] sampleShape) {
    return gaussianSource() ? PairSource.gaussian(sampleShape) : DataSources.parse(source);
  }

  /** One line for logs. */
  public String describe() {
    return objective + ": " + (gaussianSource() ? "N(0, I)" : source) + " → data, coupling " + coupling
        + (coupling.equals("sinkhorn") ? " (ε " + epsilon + ")" : "") + (perClass ? " per class" : "")
        + ", path " + path + (pathParameter != 0 ? " " + pathParameter : "") + (oneStep ? ", one-step distilled" : "");
  }

  /** The JSON object stored under {@code "flow"}. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("objective", objective);
    o.addProperty("source", source);
    o.addProperty("coupling", coupling);
    o.addProperty("per_class", perClass);
    o.addProperty("path", path);
    o.addProperty("path_parameter", pathParameter);
    o.addProperty("epsilon", epsilon);
    o.addProperty("iterations", iterations);
    o.addProperty("tolerance", tolerance);
    o.addProperty("pairs", pairs);
    if (oneStep) {
      o.addProperty("one_step", true);
    }
    return o;
  }

  /** A run's config text with this spec added under {@code "flow"}. */
  public String embedInto(String configJson) {
    JsonObject o = JsonParser.parseString(configJson).getAsJsonObject();
    o.add("flow", toJson());
    return new GsonBuilder().setPrettyPrinting().create().toJson(o);
  }

  /** The spec stored in a run's config text, or null when it has none. */
  public static FlowSpec read(String configJson, String where) {
    JsonElement e = JsonParser.parseString(configJson).getAsJsonObject().get("flow");
    if (e == null || e.isJsonNull()) {
      return null;
    }
    try {
      JsonObject o = e.getAsJsonObject();
      return new FlowSpec(o.get("objective").getAsString(), o.get("source").getAsString(),
          o.get("coupling").getAsString(), o.get("per_class").getAsBoolean(), o.get("path").getAsString(),
          o.get("path_parameter").getAsDouble(), o.get("epsilon").getAsDouble(), o.get("iterations").getAsInt(),
          o.get("tolerance").getAsDouble(), o.has("pairs") ? o.get("pairs").getAsString() : "",
          o.has("one_step") && o.get("one_step").getAsBoolean());
    } catch (RuntimeException ex) {
      throw new IllegalArgumentException(where + ": bad \"flow\" section: " + ex.getMessage());
    }
  }
}
