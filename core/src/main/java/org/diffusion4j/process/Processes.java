package org.diffusion4j.process;

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
