package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code d4j} in-process with captured streams. */
final class Cli {
  private Cli() {}

  /** Exit code and captured output of one run. */
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = D4j.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }
}
