package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.util.Locale;

/** One progress line on stderr: redrawn in place on a terminal, printed once per 10 % otherwise. */
final class ProgressLine {
  private final PrintWriter err;
  private final boolean tty = System.console() != null;
  private long lastTenth = -1;
  private boolean drawn;

  ProgressLine(PrintWriter err) {
    this.err = err;
  }

  /** Whether stderr is a terminal (lines are redrawn in place). */
  boolean tty() {
    return tty;
  }

  /** Shows {@code line} for a run {@code frac} ∈ [0, 1] done. */
  void show(String line, double frac) {
    if (tty) {
      err.print("\r" + line);
      err.flush();
      drawn = true;
    } else {
      long tenth = (long) Math.floor(frac * 10);
      if (tenth != lastTenth) {
        lastTenth = tenth;
        err.println(line);
        err.flush();
      }
    }
  }

  /** Ends the in-place line, if one was drawn. */
  void done() {
    if (drawn) {
      err.println();
      err.flush();
      drawn = false;
    }
  }

  /** {@code h:mm:ss}. */
  static String clock(double seconds) {
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
