package org.diffusion4j.lifecycle;

/**
 * A process-wide request to stop long work early (Ctrl-C or SIGTERM in the command-line tool).
 *
 * <p>Long loops poll it at points where stopping is safe: the trainer between steps (it then writes a
 * checkpoint of the step it reached), every network evaluation and every sampler step (nothing is
 * written: outputs are only written, atomically, when a command completes). Stopping there, rather than
 * letting the JVM exit under a thread that is inside a native forward or backward, is what keeps
 * PyTorch's globals from being torn down under that thread.
 */
public final class StopRequest {
  private static volatile String reason;

  private StopRequest() {}

  /** Asks every polling loop of this process to stop; {@code why} names the cause ("interrupted"). */
  public static void request(String why) {
    reason = why == null ? "stopped" : why;
  }

  /** Whether a stop has been requested. */
  public static boolean requested() {
    return reason != null;
  }

  /** The cause given to {@link #request}, or null when no stop was requested. */
  public static String reason() {
    return reason;
  }

  /** Throws {@link StoppedException} when a stop has been requested; {@code where} says what stopped. */
  public static void check(String where) {
    String r = reason;
    if (r != null) {
      throw new StoppedException(r + ": " + where, -1, null);
    }
  }

  /** Withdraws the request (for tests and long-lived hosts that run several commands). */
  public static void clear() {
    reason = null;
  }
}
