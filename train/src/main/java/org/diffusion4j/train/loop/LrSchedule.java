package org.diffusion4j.train.loop;

/**
 * Learning rate by step: linear warm-up, then constant or a half-cosine decay to {@code minLr}.
 * Step t (0-based, the optimiser update about to be made) gets {@code lr·t/warmup} during warm-up, as
 * diffusers' {@code get_*_schedule_with_warmup} and EDM's {@code lr_rampup_kimg} do (so the first
 * update has learning rate 0 when warm-up is on); the cosine phase is
 * {@code minLr + (lr − minLr)·½(1 + cos(π·p))} with {@code p = (t − warmup)/(total − warmup)}, reaching minLr at
 * t = total.
 *
 * <p>Under a wall-clock budget ({@link Trainer#budget}) the total step count is not known in advance, so
 * {@link #at(long, double)} also takes the fraction of the budget spent since warm-up ended, and the cosine's
 * progress is whichever is further along: the steps or the clock. The decay then reaches minLr when the budget
 * ends, the budgeted-training rule of Li, Yumer and Ramanan (2020, "Budgeted Training: Rethinking Deep Neural
 * Network Training Under Resource Constraints", §3: a schedule that decays to zero with the budget).
 *
 * @param lr peak learning rate, &gt; 0
 * @param warmupSteps warm-up length, ≥ 0 (0: none)
 * @param cosine whether to decay after warm-up
 * @param totalSteps total steps (used by the cosine phase), &gt; warmupSteps when cosine
 * @param minLr final learning rate of the cosine phase, in [0, lr]
 */
public record LrSchedule(double lr, long warmupSteps, boolean cosine, long totalSteps, double minLr) {
  public LrSchedule {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate " + lr + " must be finite and > 0");
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warm-up steps " + warmupSteps + " must be >= 0");
    }
    if (cosine && totalSteps <= warmupSteps) {
      throw new IllegalArgumentException("cosine schedule: total steps " + totalSteps
          + " must exceed warm-up steps " + warmupSteps);
    }
    if (!(minLr >= 0 && minLr <= lr)) {
      throw new IllegalArgumentException("minimum learning rate " + minLr + " must be in [0, " + lr + "]");
    }
  }

  /** Warm-up, then constant. */
  public static LrSchedule constant(double lr, long warmupSteps) {
    return new LrSchedule(lr, warmupSteps, false, 0, 0);
  }

  /** Warm-up, then cosine decay to 0 at {@code totalSteps}. */
  public static LrSchedule cosine(double lr, long warmupSteps, long totalSteps) {
    return new LrSchedule(lr, warmupSteps, true, totalSteps, 0);
  }

  /** The learning rate of step {@code t} (0-based). */
  public double at(long t) {
    return at(t, 0);
  }

  /**
   * The learning rate of step {@code t} (0-based) when {@code budgetProgress} of a time budget has been spent
   * since warm-up ended: the cosine's progress is the larger of the step fraction and {@code budgetProgress}.
   * Warm-up and a constant schedule ignore {@code budgetProgress}.
   *
   * @param budgetProgress in [0, 1] (0 without a budget; values past 1 count as 1)
   */
  public double at(long t, double budgetProgress) {
    if (t < 0) {
      throw new IllegalArgumentException("step " + t + " must be >= 0");
    }
    if (!(budgetProgress >= 0)) {
      throw new IllegalArgumentException("budget progress " + budgetProgress + " must be >= 0");
    }
    // Linear warm-up.
    if (t < warmupSteps) {
      return lr * t / warmupSteps;
    }
    if (!cosine) {
      return lr;
    }
    // Half-cosine decay; flat at minLr past the end.
    double progress = Math.min(1.0, Math.max(budgetProgress, (double) (t - warmupSteps) / (totalSteps - warmupSteps)));
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
}
