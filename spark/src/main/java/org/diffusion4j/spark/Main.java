package org.diffusion4j.spark;

import java.io.PrintWriter;
import picocli.CommandLine;

/** Runs a command as {@code d4j} does: a user error is one line {@code d4j: error: …} and exit 2. */
final class Main {
  private Main() {}

  static int run(Object command, String... args) {
    return run(command, new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
  }

  static int run(Object command, PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(command);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException
          || e instanceof java.io.IOException) {
        err.println("d4j: error: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }
}
