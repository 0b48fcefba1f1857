package org.diffusion4j.train.optim;

import java.util.Locale;

/**
 * Learning-rate schedule: linear warm-up from 0 over {@code warmup} steps, then constant or cosine decay
 * to 0 at {@code total} steps.
 *
 * @param base peak learning rate
 * @param warmup warm-up steps (0 for none)
 * @param total total steps (used by cosine)
 * @param cosine cosine decay after warm-up, else constant
 */
public record LearningRate(double base, int warmup, int total, boolean cosine) {
  public LearningRate {
    if (!(base > 0) || Double.isInfinite(base)) {
      throw new IllegalArgumentException("lr must be a finite number > 0, got " + base);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
    }
  }

  /** Parses {@code constant|cosine}. */
  public static LearningRate of(double base, int warmup, int total, String schedule) {
    switch (schedule.toLowerCase(Locale.ROOT)) {
      case "constant":
        return new LearningRate(base, warmup, total, false);
      case "cosine":
        return new LearningRate(base, warmup, total, true);
      default:
        throw new IllegalArgumentException("unknown lr schedule '" + schedule + "'; accepted: constant, cosine");
    }
  }

  /** The rate for update number {@code step} (0-based). */
  public double at(long step) {
    if (step < warmup) {
      return base * (step + 1) / warmup;
    }
    if (!cosine || total <= warmup) {
      return base;
    }
    double p = Math.min(1, (double) (step - warmup) / (total - warmup));
    return base * 0.5 * (1 + Math.cos(Math.PI * p));
  }
}
