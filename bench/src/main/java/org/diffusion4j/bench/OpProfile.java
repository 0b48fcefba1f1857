package org.diffusion4j.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Time by op class from PyTorch profiler traces (chrome-trace JSON, as DJL's {@code JniUtils.stopProfile}
 * and {@code torch.autograd.profiler.profile().export_chrome_trace} write them). Only top-level events of
 * each thread count (an {@code aten::conv2d} holds its {@code aten::convolution}; a backward node holds its
 * kernels), each classified by its name; what a phase's wall time has beyond its ops is framework
 * overhead (JNI calls and Java array objects for DJL, the interpreter for the twin).
 */
final class OpProfile {
  /** Rows in print order. */
  static final List<String> CLASSES = List.of("convolutions", "norms", "attention (bmm, softmax)", "dense layers",
      "activations (SiLU)", "dropout", "concat, upsampling, slicing", "elementwise + reductions", "views, reshapes",
      "allocation, fill, copies", "autograd bookkeeping", "other ops", "framework overhead (JNI/Java | Python)");
  static final String OVERHEAD = "framework overhead (JNI/Java | Python)";

  private static final Set<String> ELEMENTWISE = Set.of("add", "mul", "sub", "div", "sum", "mean", "square", "pow",
      "exp", "log", "sqrt", "rsqrt", "sin", "cos", "neg", "rsub", "reciprocal", "where", "abs", "clamp", "lerp",
      "addcmul", "addcdiv", "maximum", "minimum", "max", "min", "norm", "linalg_vector_norm", "isnan", "isinf",
      "logical_or", "eq", "ne", "gt", "lt", "ge", "le", "sign", "tanh", "mse_loss", "randn", "normal", "exp2",
      "foreach_add", "foreach_mul", "foreach_lerp", "foreach_addcmul", "foreach_addcdiv", "foreach_sqrt", "foreach_div");
  private static final Set<String> VIEWS = Set.of("view", "reshape", "expand", "unsqueeze", "squeeze", "permute",
      "transpose", "as_strided", "alias", "_unsafe_view", "detach", "t", "expand_as", "view_as", "flatten",
      "_reshape_alias", "numpy_t", "unflatten", "lift_fresh", "resolve_conj", "resolve_neg");
  private static final Set<String> ALLOC = Set.of("empty", "empty_like", "empty_strided", "zeros", "zeros_like",
      "ones", "ones_like", "fill_", "zero_", "copy_", "clone", "to", "_to_copy", "contiguous", "from_blob", "full",
      "full_like", "scalar_tensor", "item", "_local_scalar_dense", "set_", "resize_", "tensor", "new_empty",
      "new_zeros", "new_ones", "stack");

  private OpProfile() {}

  /** The op class of a profiler event name (phase-independent: the forward and backward of a step). */
  static String classify(String event) {
    String n = event;
    int colon = n.indexOf("evaluate_function: ");
    if (colon >= 0) {
      n = n.substring(colon + "evaluate_function: ".length());
    }
    n = n.replace("aten::", "").replace("torch::autograd::", "");
    n = n.replaceAll("Backward\\d*$", "").replaceAll("_backward$", "");
    String l = n.toLowerCase(Locale.ROOT);
    String bare = l.endsWith("_") && !ALLOC.contains(l) ? l.substring(0, l.length() - 1) : l;
    if (l.contains("conv")) {
      return "convolutions";
    }
    if (l.contains("batch_norm") || l.contains("group_norm") || l.contains("batchnorm") || l.contains("groupnorm")
        || l.contains("layer_norm")) {
      return "norms";
    }
    if (l.contains("bmm") || l.contains("softmax") || l.contains("matmul") || l.contains("scaled_dot")) {
      return "attention (bmm, softmax)";
    }
    if (l.contains("linear") || l.contains("addmm") || bare.equals("mm")) {
      return "dense layers";
    }
    if (l.contains("sigmoid") || l.contains("silu") || l.contains("swish")) {
      return "activations (SiLU)";
    }
    if (l.contains("dropout") || l.contains("bernoulli")) {
      return "dropout";
    }
    if (bare.equals("cat") || l.contains("repeat") || l.contains("upsample") || l.contains("interpolate")
        || l.startsWith("index") || l.startsWith("slice") || l.startsWith("select") || l.equals("narrow")
        || l.startsWith("split") || l.startsWith("chunk") || l.startsWith("unbind")) {
      return "concat, upsampling, slicing";
    }
    if (l.contains("accumulategrad") || l.contains("graphroot")) {
      return "autograd bookkeeping";
    }
    if (ALLOC.contains(l) || ALLOC.contains(bare)) {
      return "allocation, fill, copies";
    }
    if (VIEWS.contains(l) || VIEWS.contains(bare)) {
      return "views, reshapes";
    }
    if (ELEMENTWISE.contains(bare) || ELEMENTWISE.contains(l)) {
      return "elementwise + reductions";
    }
    return "other ops";
  }

  /** One traced op. */
  record Event(String name, double ts, double dur, String tid) {}

  static List<Event> read(Path trace) throws IOException {
    JsonElement root = JsonParser.parseString(Files.readString(trace));
    JsonArray a = root.isJsonArray() ? root.getAsJsonArray() : root.getAsJsonObject().getAsJsonArray("traceEvents");
    List<Event> events = new ArrayList<>();
    for (JsonElement e : a) {
      JsonObject o = e.getAsJsonObject();
      if (!o.has("dur") || !o.has("name")) {
        continue;
      }
      if (o.has("ph") && !"X".equals(o.get("ph").getAsString())) {
        continue;
      }
      events.add(new Event(o.get("name").getAsString(), o.get("ts").getAsDouble(), o.get("dur").getAsDouble(),
          o.has("tid") ? o.get("tid").getAsString() : "0"));
    }
    return events;
  }

  /** The top-level events (ops not nested in another op; TorchScript's own "forward" frames left out). */
  static List<Event> topLevel(List<Event> events) {
    List<Event> top = new ArrayList<>();
    Map<String, List<Event>> byThread = new LinkedHashMap<>();
    for (Event e : events) {
      byThread.computeIfAbsent(e.tid(), k -> new ArrayList<>()).add(e);
    }
    for (List<Event> list : byThread.values()) {
      list.sort(Comparator.comparingDouble(Event::ts).thenComparing(Comparator.comparingDouble(Event::dur).reversed()));
      double end = Double.NEGATIVE_INFINITY;
      for (Event e : list) {
        if (e.name().equals("forward")) {
          continue; // a TorchScript method call (NativeOps): its ops count, its own time is overhead
        }
        if (e.ts() < end) {
          continue; // nested in the previous top-level event
        }
        end = e.ts() + e.dur();
        top.add(e);
      }
    }
    return top;
  }

  /** µs by op class of the top-level events; {@code fixedClass} (when not null) takes every op of the phase. */
  static Map<String, Double> byClass(List<Event> events, String fixedClass) {
    Map<String, Double> us = new LinkedHashMap<>();
    for (Event e : topLevel(events)) {
      us.merge(fixedClass != null ? fixedClass : classify(e.name()), e.dur(), Double::sum);
    }
    return us;
  }

  /** Total µs of top-level events. */
  static double total(Map<String, Double> us) {
    return us.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /**
   * Accumulates one phase: its ops by class (or all under {@code fixedClass}) in ms, and its wall time
   * minus its ops as framework overhead.
   */
  static void addPhase(Map<String, Double> ms, Path trace, double wallMs, String fixedClass) throws IOException {
    List<Event> events = read(trace);
    Map<String, Double> us = byClass(events, fixedClass);
    us.forEach((k, v) -> ms.merge(k, v / 1e3, Double::sum));
    ms.merge(OVERHEAD, Math.max(0, wallMs - total(us) / 1e3), Double::sum);
    ms.merge(OPS, (double) topLevel(events).size(), Double::sum);
  }

  /** The key under which {@link #addPhase} counts top-level ops (a count, not ms; not an op class). */
  static final String OPS = "top-level ops";
}
