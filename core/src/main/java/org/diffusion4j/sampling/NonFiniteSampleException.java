package org.diffusion4j.sampling;

/**
 * A sampler run whose state became NaN or infinite; the message names the sampler, the seeds, the step
 * and σ where it first happened.
 */
public final class NonFiniteSampleException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int step;

  NonFiniteSampleException(String message, int step) {
    super(message);
    this.step = step;
  }

  /** The 0-based step after which the state was first non-finite, or −1 if only the final state was. */
  public int step() {
    return step;
  }
}
