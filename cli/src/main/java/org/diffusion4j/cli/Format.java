package org.diffusion4j.cli;

import java.util.Locale;

/** Number formatting for the command's tables and JSON. */
final class Format {
  private Format() {}

  /** Compact human form: up to 6 significant digits, no trailing zeros. */
  static String num(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    String s = String.format(Locale.ROOT, "%.6g", v);
    if (s.contains("e")) {
      String[] p = s.split("e");
      return stripZeros(p[0]) + "e" + Integer.parseInt(p[1]);
    }
    return stripZeros(s);
  }

  /** Scientific with 2 decimals, e.g. {@code 1.23e-04}. */
  static String sci(double v) {
    return String.format(Locale.ROOT, "%.2e", v);
  }

  /** Exact JSON number: integers without fraction, otherwise Java's shortest round-trip form. */
  static String json(double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException("cannot write non-finite number " + v + " as JSON");
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private static String stripZeros(String s) {
    if (!s.contains(".")) {
      return s;
    }
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The sequential depth after the NFE, e.g. {@code " (sequential depth 12 batched calls)"}, for samplers that evaluate
   * several grid points in one call; empty when every evaluation was its own call.
   */
  static String depth(org.diffusion4j.sampling.Sampling.Result r) {
    return r.parallelInTime() ? " (sequential depth " + r.depthText() + " batched calls)" : "";
  }
}
