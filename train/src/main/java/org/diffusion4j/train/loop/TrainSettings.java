package org.diffusion4j.train.loop;

import java.util.Locale;

/**
 * Every knob of a training run's loop, as stored in the run's {@code config.json} so that a resumed
 * run continues with exactly what it started with.
 *
 * @param steps total optimiser steps
 * @param batch examples per step
 * @param accumulate gradient-accumulation micro-batches per step (divides batch)
 * @param lr peak learning rate
 * @param warmup linear warm-up steps
 * @param lrSchedule {@code cosine} or {@code constant} after warm-up
 * @param clip global gradient-norm clipping (0: none)
 * @param emaDecay EMA decay of the warm-up form (used when {@code emaHalfLife} is 0)
 * @param emaHalfLife EDM's EMA half-life in images, or 0 for the decay form
 * @param seed the run's seed
 * @param logEvery steps between metrics lines
 * @param checkpointEvery steps between checkpoints
 */
public record TrainSettings(long steps, int batch, int accumulate, double lr, long warmup, String lrSchedule,
    double clip, double emaDecay, double emaHalfLife, long seed, int logEvery, int checkpointEvery) {

  public TrainSettings {
    if (steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
    }
    if (accumulate < 1 || batch % accumulate != 0) {
      throw new IllegalArgumentException("--accumulate must be >= 1 and divide --batch " + batch + ", got " + accumulate);
    }
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("--lr must be a finite number > 0, got " + lr);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
    }
    lrSchedule = lrSchedule.toLowerCase(Locale.ROOT);
    if (!lrSchedule.equals("cosine") && !lrSchedule.equals("constant")) {
      throw new IllegalArgumentException("unknown --lr-schedule '" + lrSchedule + "'; accepted: constant, cosine");
    }
    if (!(clip >= 0) || Double.isInfinite(clip)) {
      throw new IllegalArgumentException("--clip must be >= 0 (0 disables), got " + clip);
    }
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw new IllegalArgumentException("--ema must be in [0, 1), got " + emaDecay);
    }
    if (!(emaHalfLife >= 0) || Double.isInfinite(emaHalfLife)) {
      throw new IllegalArgumentException("--ema-half-life must be > 0, got " + emaHalfLife);
    }
    if (logEvery < 1) {
      throw new IllegalArgumentException("--log-every must be >= 1, got " + logEvery);
    }
    if (checkpointEvery < 1) {
      throw new IllegalArgumentException("--checkpoint-every must be >= 1, got " + checkpointEvery);
    }
  }

  /**
   * The defaults for a run of {@code steps} steps: batch, lr by data kind (512 and 2e-3 for points, 64
   * and 5e-4 for images), 200 warm-up steps (at most steps − 1), cosine, clipping at 1, EMA 0.999, seed
   * 0, a log line every steps/200 and a checkpoint every steps/5.
   */
  public static TrainSettings defaults(boolean images, long steps) {
    return new TrainSettings(steps, images ? 64 : 512, 1, images ? 5e-4 : 2e-3, Math.min(200, steps - 1), "cosine",
        1.0, 0.999, 0, 0, (int) Math.max(1, steps / 200), (int) Math.max(1, Math.min(Integer.MAX_VALUE, steps / 5)));
  }

  /** Default step counts: 4000 for points, 6000 for images. */
  public static long defaultSteps(boolean images) {
    return images ? 6000 : 4000;
  }

  /** The learning-rate schedule. */
  public LrSchedule schedule() {
    return lrSchedule.equals("constant") ? LrSchedule.constant(lr, warmup)
        : LrSchedule.cosine(lr, Math.min(warmup, steps - 1), steps);
  }

  /** The EMA rule. */
  public Ema.Decay ema() {
    return emaHalfLife > 0 ? new Ema.HalfLife(emaHalfLife, 0.05, batch) : new Ema.WarmUp(emaDecay);
  }

  /** The loop options. */
  public Trainer.Options options() {
    return new Trainer.Options(steps, batch, accumulate, schedule(), clip, ema(), seed, logEvery, checkpointEvery);
  }

  /**
   * The same run extended (or shortened) to {@code steps}: a cosine schedule is then stretched over
   * the new total, so steps after the checkpoint take the learning rates of the new schedule, not of
   * the old one.
   */
  public TrainSettings withSteps(long steps) {
    return new TrainSettings(steps, batch, accumulate, lr, warmup, lrSchedule, clip, emaDecay, emaHalfLife, seed,
        logEvery, checkpointEvery);
  }

  /** A copy with another seed. */
  public TrainSettings withSeed(long seed) {
    return new TrainSettings(steps, batch, accumulate, lr, warmup, lrSchedule, clip, emaDecay, emaHalfLife, seed,
        logEvery, checkpointEvery);
  }
}
