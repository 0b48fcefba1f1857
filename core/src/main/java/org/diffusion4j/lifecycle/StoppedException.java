package org.diffusion4j.lifecycle;

import java.nio.file.Path;

/**
 * Long work stopped because of a {@link StopRequest}. When it was training, {@link #checkpointStep()} and
 * {@link #runDir()} say where it can be resumed from.
 */
public final class StoppedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final long checkpointStep;
  private final transient Path runDir;

  /**
   * @param message what stopped and where
   * @param checkpointStep the step of the checkpoint left in {@code runDir}, or −1 if none was written
   * @param runDir the run directory holding that checkpoint, or null
   */
  public StoppedException(String message, long checkpointStep, Path runDir) {
    super(message);
    this.checkpointStep = checkpointStep;
    this.runDir = runDir;
  }

  /** The step of the checkpoint left behind, or −1 if none exists. */
  public long checkpointStep() {
    return checkpointStep;
  }

  /** The run directory of that checkpoint, or null. */
  public Path runDir() {
    return runDir;
  }
}
