package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import org.diffusion4j.sampling.StepInfo;
import org.diffusion4j.sampling.StepListener;

/**
 * Progress of a long sampling run on stderr: nothing for runs that end within a couple of seconds; then a
 * line redrawn in place on a terminal, or a line per 10 % otherwise (after 10 s, so logs of short runs
 * stay clean). Counts sampler steps over all batches (and workers), so it is exact for fixed-step samplers
 * and an estimate for adaptive ones.
 */
final class SamplingProgress implements StepListener {
  private static final long TTY_AFTER_NANOS = 2_000_000_000L;
  /** Off a terminal, the first line waits this long (system property {@code d4j.progressAfterMs}, default 10 s). */
  private static final long LOG_AFTER_NANOS = Long.getLong("d4j.progressAfterMs", 10_000L) * 1_000_000L;
  private final ProgressLine out;
  private final long total;
  private final long start = System.nanoTime();
  private long done;
  private long lastDraw;

  /** Progress over {@code batches} batches of a grid of {@code steps} steps. */
  SamplingProgress(PrintWriter err, long batches, int steps) {
    this.out = new ProgressLine(err);
    this.total = Math.max(1, batches * steps);
  }

  @Override
  public synchronized void onStep(StepInfo info) {
    done++;
    long now = System.nanoTime();
    long elapsed = now - start;
    if (elapsed < (out.tty() ? TTY_AFTER_NANOS : LOG_AFTER_NANOS)
        || out.tty() && now - lastDraw < 250_000_000L && done < total) {
      return;
    }
    lastDraw = now;
    double frac = Math.min(1, (double) done / total);
    double eta = frac > 0 ? elapsed / 1e9 * (1 - frac) / frac : 0;
    out.show(String.format(Locale.ROOT, "sampling: %3.0f%% (%d of %d batch steps)  elapsed %s  ETA %s", 100 * frac, done,
        total, ProgressLine.clock(elapsed / 1e9), ProgressLine.clock(eta)), frac);
  }

  /** Ends the in-place line, if one was drawn. */
  synchronized void done() {
    out.done();
  }
}
