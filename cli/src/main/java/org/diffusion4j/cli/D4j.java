package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code d4j} command: samplers on exact models ({@code sample}), grids ({@code grid}), the sampler
 * catalogue ({@code samplers}) and the demo ({@code demo}).
 *
 * <p>Errors in user input (any {@link IllegalArgumentException}, any bad option) print exactly one line
 * {@code d4j: error: …} on stderr and exit with code 2; I/O failures exit with code 1. No stack traces.
 */
@Command(name = "d4j", mixinStandardHelpOptions = true, version = "d4j 0.1.0-SNAPSHOT",
    description = "Diffusion4J: diffusion and flow samplers on the JVM, run on models whose exact "
        + "denoiser is known, with their error against the exact probability-flow ODE.",
    subcommands = {DemoCommand.class, TrainCommand.class, SampleCommand.class, DataCommand.class, GridCommand.class,
        SamplersCommand.class, InfoCommand.class, NllCommand.class, EvalCommand.class, LabCommand.class, AlignCommand.class,
        TrainClassifierCommand.class, TrainFeatureNetCommand.class, ReflowCommand.class, TransportCommand.class,
        DistillCommand.class, ExportCommand.class, InpaintCommand.class, RestoreCommand.class, SdeditCommand.class,
        InvertCommand.class, StatsCommand.class},
    footer = {"", "Examples:", "  d4j demo", "  d4j sample --model examples/gmm2d.json --sampler heun --steps 18 --out x.png",
        "  d4j grid --process ddpm --grid trailing --steps 10 --json", "  d4j samplers"})
public final class D4j implements Runnable {
  /** Exit code for bad user input. */
  public static final int USAGE = 2;
  /** Exit code for I/O failures. */
  public static final int IO_ERROR = 1;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing command; accepted: " + String.join(", ", spec.subcommands().keySet()));
  }

  /** Entry point of the launcher {@code bin/d4j}. */
  public static void main(String[] args) {
    System.setProperty("java.awt.headless", "true");
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    // Ctrl-C / SIGTERM: ask the running command to stop where it safely can (a trainer after its current
    // step, with a checkpoint; a sampler or ODE before its next network evaluation) and wait for it, since
    // tearing PyTorch down under a thread inside a native forward or backward crashes the JVM.
    java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
    Thread hook = new Thread(() -> {
      org.diffusion4j.lifecycle.StopRequest.request("interrupted");
      try {
        finished.await(STOP_WAIT_MINUTES, java.util.concurrent.TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "d4j-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    int code = execute(out, err, args);
    out.flush();
    err.flush();
    finished.countDown();
    if (org.diffusion4j.lifecycle.StopRequest.requested()) {
      return; // the JVM is already exiting with the signal's status (130 for Ctrl-C)
    }
    System.exit(code);
  }

  /** Runs {@code d4j args} in-process with the given streams; returns the exit code. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    // --debug anywhere: stack traces for unexpected failures (never needed for user errors).
    boolean debug = java.util.Arrays.asList(args).contains("--debug");
    String[] rest = java.util.Arrays.stream(args).filter(a -> !a.equals("--debug")).toArray(String[]::new);
    CommandLine cl = new CommandLine(new D4j());
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler((ex, a) -> fail(err, ex.getMessage() + " (see '"
        + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help')", USAGE));
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof IllegalArgumentException) {
        return fail(err, ex.getMessage(), USAGE);
      }
      if (ex instanceof org.diffusion4j.lifecycle.StoppedException st) {
        boolean resumable = st.checkpointStep() >= 0 && cmd.getCommandSpec().findOption("--resume") != null;
        err.println("d4j: " + ex.getMessage() + (resumable ? "; continue with: " + cmd.getCommandSpec().qualifiedName()
            + " --out " + st.runDir() + " --resume" : ""));
        err.flush();
        return INTERRUPTED;
      }
      if (ex instanceof IOException || ex instanceof UncheckedIOException) {
        return fail(err, ex.getMessage(), IO_ERROR);
      }
      if (ex instanceof org.diffusion4j.train.loop.TrainingDivergedException
          || ex instanceof org.diffusion4j.sampling.NonFiniteSampleException
          || ex instanceof org.diffusion4j.likelihood.NonFiniteLikelihoodException || ex instanceof IllegalStateException) {
        return fail(err, ex.getMessage(), FAILED);
      }
      if (debug) {
        ex.printStackTrace(err);
      }
      return fail(err, "internal error: " + ex.getClass().getSimpleName() + ": " + ex.getMessage()
          + (debug ? "" : " (run again with --debug for the stack trace)"), INTERNAL);
    });
    int code;
    try {
      code = cl.execute(rest);
    } catch (OutOfMemoryError e) {
      code = fail(err, "out of memory; use a smaller --batch, fewer --seeds or --steps, or a larger -Xmx", FAILED);
    } catch (Error e) {
      if (debug) {
        e.printStackTrace(err);
      }
      code = fail(err, "internal error: " + e + (debug ? "" : " (run again with --debug for the stack trace)"), INTERNAL);
    }
    out.flush();
    err.flush();
    return code;
  }

  /** Exit code of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it). */
  static final int INTERRUPTED = 130;
  /** How long a signal waits for the running command to stop (a training step and its checkpoint). */
  private static final long STOP_WAIT_MINUTES = 10;

  /** Exit code of a run that failed for a reason a user can act on (a diverged loss, non-finite samples). */
  static final int FAILED = 3;
  /** Exit code of an unexpected failure (a bug: please report it with --debug's trace). */
  static final int INTERNAL = 70;

  private static int fail(PrintWriter err, String message, int code) {
    String m = message == null ? "invalid input" : message.strip();
    int nl = m.indexOf('\n');
    err.println("d4j: error: " + (nl < 0 ? m : m.substring(0, nl).strip()));
    err.flush();
    return code;
  }
}
