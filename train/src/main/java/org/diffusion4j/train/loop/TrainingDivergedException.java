package org.diffusion4j.train.loop;

import java.nio.file.Path;
import java.util.Locale;

/**
 * A training run stopped because its loss or a gradient norm turned non-finite. The parameters were
 * not updated with the bad gradients, and the run directory keeps its last checkpoint, which
 * {@link #lastCheckpoint()} names (−1 when none was written yet).
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final long step;
  private final double lr;
  private final long lastCheckpoint;

  TrainingDivergedException(String what, long step, double lr, Path runDir, long lastCheckpoint) {
    super(String.format(Locale.ROOT, "%s at step %d (lr %.3g); %s", what, step, lr,
        lastCheckpoint >= 0
            ? "the checkpoint of step " + lastCheckpoint + " in " + runDir + " is intact (continue it with --resume, "
                + "or start a new run with a lower --lr or a larger --warmup)"
            : "no checkpoint was written yet (try a lower --lr, --clip 1, or a larger --warmup)"));
    this.step = step;
    this.lr = lr;
    this.lastCheckpoint = lastCheckpoint;
  }

  /** The step at which the loss or gradient turned non-finite. */
  public long step() {
    return step;
  }

  /** The learning rate at that step. */
  public double lr() {
    return lr;
  }

  /** The step of the run's last checkpoint, or −1 if there is none. */
  public long lastCheckpoint() {
    return lastCheckpoint;
  }
}
