package org.diffusion4j.sampling;

/**
 * The accepted values of a numeric sampler parameter: an interval whose ends may be open, infinite
 * ({@code hi = +∞} allowed only when {@code hiInclusive} says infinity itself is accepted) or integer.
 * It prints readably ({@code ≥ 0}, {@code > 0}, {@code in (0, 1]}, {@code in [1, 4]}), never as
 * {@code [0.0, 1.797…E308]}.
 *
 * @param lo lower end (finite)
 * @param loOpen whether {@code lo} itself is excluded
 * @param hi upper end (finite, or +∞)
 * @param hiOpen whether {@code hi} itself is excluded (for {@code hi = +∞}: false means ∞ is accepted)
 * @param integer whether only integers are accepted
 */
public record ParamRange(double lo, boolean loOpen, double hi, boolean hiOpen, boolean integer) {
  /** Checks the ends. */
  public ParamRange {
    if (!Double.isFinite(lo) || Double.isNaN(hi) || !(hi >= lo)) {
      throw new IllegalArgumentException("bad range [" + lo + ", " + hi + "]");
    }
  }

  /** {@code [lo, hi]}. */
  public static ParamRange closed(double lo, double hi) {
    return new ParamRange(lo, false, hi, false, false);
  }

  /** {@code (lo, hi]}. */
  public static ParamRange leftOpen(double lo, double hi) {
    return new ParamRange(lo, true, hi, false, false);
  }

  /** A finite number ≥ {@code lo}. */
  public static ParamRange atLeast(double lo) {
    return new ParamRange(lo, false, Double.POSITIVE_INFINITY, true, false);
  }

  /** A finite number &gt; {@code lo}. */
  public static ParamRange above(double lo) {
    return new ParamRange(lo, true, Double.POSITIVE_INFINITY, true, false);
  }

  /** Integers in {@code [lo, hi]}. */
  public static ParamRange ints(int lo, int hi) {
    return new ParamRange(lo, false, hi, false, true);
  }

  /** Whether {@code v} is accepted (NaN never is). */
  public boolean contains(double v) {
    if (Double.isNaN(v) || (integer && v != Math.rint(v))) {
      return false;
    }
    boolean aboveLo = loOpen ? v > lo : v >= lo;
    boolean belowHi = hiOpen ? v < hi : v <= hi;
    return aboveLo && belowHi;
  }

  /** The smallest accepted value (the next double above {@code lo} when open). */
  public double lowest() {
    return loOpen ? (integer ? lo + 1 : Math.nextUp(lo)) : lo;
  }

  /** The largest accepted value (the next double below {@code hi} when open; may be +∞). */
  public double highest() {
    return hiOpen ? (integer ? hi - 1 : Math.nextDown(hi)) : hi;
  }

  @Override
  public String toString() {
    if (integer) {
      return hi >= Integer.MAX_VALUE ? "an integer ≥ " + (long) lowest()
          : "an integer in [" + (long) lowest() + ", " + (long) highest() + "]";
    }
    if (hi == Double.POSITIVE_INFINITY) {
      String bound = (loOpen ? "> " : "≥ ") + format(lo);
      return hiOpen ? "finite and " + bound : bound + " (inf accepted)";
    }
    return "in " + (loOpen ? "(" : "[") + format(lo) + ", " + format(hi) + (hiOpen ? ")" : "]");
  }

  /** A number as a person writes it: {@code 0}, {@code 0.5}, {@code 1e-13}, {@code 100000}. */
  public static String format(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e7) {
      return Long.toString((long) v);
    }
    String s = Double.toString(v);
    int e = s.indexOf('E');
    if (e < 0) {
      return s;
    }
    String mant = s.substring(0, e);
    if (mant.endsWith(".0")) {
      mant = mant.substring(0, mant.length() - 2);
    }
    return mant + "e" + s.substring(e + 1);
  }
}
