package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.diffusers.DiffusersModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code d4j info DIR}: what a model directory holds (a diffusers model or a run of 'd4j train'). */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Print a model directory's architecture, parameter count and noise schedule: a diffusers "
        + "UNet2DModel directory (or its unet/) or a run written by 'd4j train'.",
    footer = {"", "Examples:", "  d4j info ../shared/fixtures/diffusers-unet2d-tiny", "  d4j info runs/mnist"})
public final class InfoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The model directory.")
  Path dir;

  @Option(names = "--scheduler-config", paramLabel = "FILE",
      description = "For a diffusers unet/ directory without a scheduler beside it: its scheduler_config.json.")
  Path schedulerConfig;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + ": not a directory");
    }
    if (DiffusersModel.isModelDir(dir)) {
      try (DiffusersModel m = DiffusersModel.load(dir, schedulerConfig)) {
        m.describe().forEach(w::println);
      }
      return 0;
    }
    if (schedulerConfig != null) {
      throw new IllegalArgumentException("--scheduler-config applies to diffusers model directories only");
    }
    try (TrainedModel m = TrainedModel.load(dir, true)) {
      long params = 0;
      for (var p : m.network().getParameters()) {
        params += p.getValue().getShape().size();
      }
      w.printf(Locale.ROOT, "run %s (step %d)%n", dir, m.step());
      w.printf(Locale.ROOT, "network   %s%n", m.config().network());
      w.printf(Locale.ROOT, "          %,d parameters%n", params);
      w.printf(Locale.ROOT, "samples   %s%n", java.util.Arrays.toString(m.config().sampleShape()));
      var p = m.config().process();
      w.printf(Locale.ROOT, "process   %s, objective %s%n", p.isDiscrete() ? p.toString() : p.id(),
          m.config().objective());
    }
    return 0;
  }
}
