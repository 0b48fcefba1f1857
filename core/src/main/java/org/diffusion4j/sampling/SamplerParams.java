package org.diffusion4j.sampling;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A sampler's hyper-parameters as given by a user ({@code --param name=value}), checked against the
 * sampler's declared {@link ParamSpec}s: unknown names and malformed values fail with a message that
 * names the value and what is accepted.
 */
public final class SamplerParams {
  private final String samplerId;
  private final Map<String, ParamSpec> specs;
  private final Map<String, String> values;

  SamplerParams(String samplerId, List<ParamSpec> specs, Map<String, String> values) {
    this.samplerId = samplerId;
    this.specs = new LinkedHashMap<>();
    for (ParamSpec s : specs) {
      this.specs.put(s.name(), s);
    }
    for (String k : values.keySet()) {
      if (!this.specs.containsKey(k)) {
        String accepted = specs.isEmpty() ? "none" : specs.stream().map(ParamSpec::name).collect(Collectors.joining(", "));
        throw new IllegalArgumentException(
            "unknown parameter '" + k + "' for sampler '" + samplerId + "'; accepted: " + accepted);
      }
    }
    this.values = Map.copyOf(values);
  }

  /** Parses {@code name=value} strings. */
  public static Map<String, String> parseAssignments(List<String> assignments) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String a : assignments) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("bad --param '" + a + "'; expected name=value, e.g. eta=1");
      }
      m.put(a.substring(0, eq).trim().toLowerCase(Locale.ROOT), a.substring(eq + 1).trim());
    }
    return m;
  }

  private String raw(String name) {
    ParamSpec s = specs.get(name);
    if (s == null) {
      throw new IllegalStateException("sampler '" + samplerId + "' did not declare parameter " + name);
    }
    return values.getOrDefault(name, s.defaultValue());
  }

  /** A real parameter, checked against its declared {@link ParamRange} when it has one. */
  public double getDouble(String name) {
    double d = parseDouble(name);
    ParamRange r = specs.get(name).range();
    if (r != null && !r.contains(d)) {
      throw outOfRange(name, r, ParamRange.format(d));
    }
    return d;
  }

  /** An integer parameter, checked against its declared {@link ParamRange}. */
  public int getInt(String name) {
    ParamRange r = specs.get(name) == null ? null : specs.get(name).range();
    if (r == null || !r.integer()) {
      throw new IllegalStateException("sampler '" + samplerId + "' declared no integer range for " + name);
    }
    return getInt(name, (int) r.lo(), (int) r.hi());
  }

  private IllegalArgumentException outOfRange(String name, ParamRange r, String got) {
    return new IllegalArgumentException("parameter " + name + " of sampler '" + samplerId + "' must be "
        + r + ", got " + got);
  }

  private double parseDouble(String name) {
    String v = raw(name);
    String w = v.trim().toLowerCase(Locale.ROOT);
    if (w.equals("inf") || w.equals("+inf") || w.equals("infinity") || w.equals("+infinity")) {
      return Double.POSITIVE_INFINITY;
    }
    if (w.equals("-inf") || w.equals("-infinity")) {
      return Double.NEGATIVE_INFINITY;
    }
    try {
      double d = Double.parseDouble(v);
      if (Double.isNaN(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "parameter " + name + " of sampler '" + samplerId + "' must be a number, got '" + v + "'");
    }
  }

  /** A real parameter in [lo, hi]. */
  public double getDouble(String name, double lo, double hi) {
    double d = parseDouble(name);
    ParamRange r = ParamRange.closed(lo, hi);
    if (!r.contains(d)) {
      throw outOfRange(name, r, ParamRange.format(d));
    }
    return d;
  }

  /** An integer parameter in [lo, hi]. */
  public int getInt(String name, int lo, int hi) {
    String v = raw(name);
    int i;
    try {
      i = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "parameter " + name + " of sampler '" + samplerId + "' must be an integer, got '" + v + "'");
    }
    if (i < lo || i > hi) {
      throw outOfRange(name, ParamRange.ints(lo, hi), Integer.toString(i));
    }
    return i;
  }

  /** A parameter as given (a file name, a word), trimmed. */
  public String getString(String name) {
    return raw(name).trim();
  }

  /** A boolean parameter ({@code true|false}). */
  public boolean getBoolean(String name) {
    String v = raw(name).toLowerCase(Locale.ROOT);
    if (!v.equals("true") && !v.equals("false")) {
      throw new IllegalArgumentException("parameter " + name + " of sampler '" + samplerId
          + "' must be true or false, got '" + v + "'");
    }
    return v.equals("true");
  }

  /** One of the allowed words. */
  public String getChoice(String name, String... allowed) {
    String v = raw(name).toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(v)) {
        return a;
      }
    }
    throw new IllegalArgumentException("parameter " + name + " of sampler '" + samplerId + "' must be one of "
        + String.join(", ", allowed) + ", got '" + v + "'");
  }

  /** A comma-separated list of integers, each in [lo, hi]; empty text is the empty list. */
  public List<Integer> getIntList(String name, int lo, int hi) {
    String v = raw(name).trim();
    List<Integer> out = new java.util.ArrayList<>();
    if (v.isEmpty()) {
      return out;
    }
    for (String part : v.split(",")) {
      int i;
      try {
        i = Integer.parseInt(part.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("parameter " + name + " of sampler '" + samplerId
            + "' must be a comma-separated list of integers, got '" + v + "'");
      }
      if (i < lo || i > hi) {
        throw new IllegalArgumentException("parameter " + name + " of sampler '" + samplerId
            + "' must list integers, each " + ParamRange.ints(lo, hi).toString().replace("an integer ", "") + ", got " + i);
      }
      out.add(i);
    }
    return List.copyOf(out);
  }
}
