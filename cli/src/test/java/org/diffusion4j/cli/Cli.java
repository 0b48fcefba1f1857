package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs {@code d4j} in-process with captured streams. */
final class Cli {
  private Cli() {}

  /** Exit code and captured output of one run. */
  record Run(int code, String out, String err) {}

  /** {@code d4j sample --model model --out out extra…}. */
  static Run sample(java.nio.file.Path model, java.nio.file.Path out, String... extra) {
    java.util.List<String> args = new java.util.ArrayList<>(
        java.util.List.of("sample", "--model", model.toString(), "--out", out.toString()));
    args.addAll(java.util.List.of(extra));
    return run(args.toArray(new String[0]));
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = D4j.execute(new PrintWriter(out), new PrintWriter(err), args);
    return new Run(code, out.toString(), err.toString());
  }
}
