package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.transport.FlowOde;
import org.diffusion4j.train.transport.Reflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j reflow}: rectify a trained flow k times (Liu et al. 2023). */
@Command(name = "reflow", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Reflow a trained flow (objective flow, cfm, ot-cfm, sb-cfm or fm): integrate its ODE from fresh "
        + "source draws to get (z0, z1) pairs, train a new flow on the straight paths between them, and repeat. Round "
        + "k is the run DIR/round-k (with its pairs.npy); sample or measure it like any run. With --distill-steps N, "
        + "the last flow is then distilled into a one-step model DIR/one-step (trained at t = 0 on its own pairs; "
        + "sampled with one Euler step).",
    footer = {"", "Examples:", "  d4j reflow --model runs/cfm --pairs 20000 --rounds 2 --out runs/cfm-reflow",
        "  d4j transport --model runs/cfm-reflow/round-2",
        "  d4j reflow --model runs/cfm --rounds 1 --distill-steps 2000 --out runs/cfm-2rf-distilled",
        "  d4j sample --model runs/cfm-2rf-distilled/one-step --seeds 0-1999 --out one-step.png"})
public final class ReflowCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", paramLabel = "RUN", required = true, description = "The trained flow's run directory.")
  Path model;

  @Option(names = "--out", paramLabel = "DIR", required = true, description = "New or empty directory for the rounds.")
  Path out;

  @Option(names = "--pairs", paramLabel = "N", defaultValue = "20000", description = "Pairs per round (default: ${DEFAULT-VALUE}).")
  int pairs;

  @Option(names = "--rounds", paramLabel = "K", defaultValue = "1", description = "Rounds (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "2000",
      description = "Optimiser steps per round (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "512", description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--ode-steps", paramLabel = "N", defaultValue = "50",
      description = "Steps of the ODE that makes the pairs (default: ${DEFAULT-VALUE}).")
  int odeSteps;

  @Option(names = "--ode", paramLabel = "METHOD", defaultValue = "rk4",
      description = "euler | midpoint | heun | rk4 (default: ${DEFAULT-VALUE}).")
  String ode;

  @Option(names = "--distill-steps", paramLabel = "N", defaultValue = "0",
      description = "After the rounds, distil the last flow into a one-step model (DIR/one-step) with N optimiser "
          + "steps; 0: no distillation (default: ${DEFAULT-VALUE}). --rounds 0 distils the model itself.")
  long distillSteps;

  @Option(names = "--fresh", description = "Start each round from a new network instead of the previous weights.")
  boolean fresh;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (!RunDirs.isRun(model)) {
      throw new IllegalArgumentException("--model " + model + " holds no run");
    }
    Reflow.specOf(model);
    RunDirs.checkNew(out);
    Reflow.Options o = new Reflow.Options(pairs, rounds, steps, batch, lr, odeSteps, FlowOde.Method.parse(ode), seed,
        !fresh, distillSteps);
    PrintWriter w = spec.commandLine().getOut();
    Files.createDirectories(out);
    List<Path> dirs = Reflow.run(model, o, out, null, line -> {
      w.println(line);
      w.flush();
    });
    for (Path d : dirs) {
      try (TrainedModel m = TrainedModel.load(d, true)) {
        w.printf(Locale.ROOT, "%s: %d steps%n", d, m.step());
      }
    }
    Path last = dirs.get(dirs.size() - 1);
    w.printf(Locale.ROOT, distillSteps > 0 ? "sample it: d4j sample --model %s --seeds 0-999 --out one-step.npy%n"
        : "measure it: d4j transport --model %s%n", last);
    return 0;
  }
}
