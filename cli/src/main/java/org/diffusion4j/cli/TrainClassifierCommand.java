package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.guidance.ClassifierRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j train-classifier}: a noise-conditional classifier of labelled points or images, for classifier guidance. */
@Command(name = "train-classifier", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train a noise-conditional classifier p(y | x0 + σε, σ) of labelled points (a residual MLP) or "
        + "images (a small CNN with the noise embedding in every stage) by cross-entropy on noisy data, σ "
        + "log-uniform, for classifier guidance: d4j sample --model RUN --class K --classifier DIR --classifier-scale S."},
    footer = {"", "Examples:",
        "  d4j train-classifier --data gmm:examples/gmm2d-labelled.json --steps 1500 --out runs/clf",
        "  d4j train-classifier --data mnist:../shared/data/mnist --steps 2000 --batch 64 --out runs/mnist-clf"})
public final class TrainClassifierCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--data", required = true, paramLabel = "SPEC",
      description = "Labelled data: points (gmm:FILE.json, csv:FILE with a label column, npz:FILE with labels, demo) "
          + "or images (mnist:DIR, an image folder with one sub-folder per class).")
  String data;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The classifier's run directory.")
  Path out;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "1500", description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "256", description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", paramLabel = "LR", defaultValue = "2e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--hidden", paramLabel = "N",
      description = "Points: the MLP's width (default 128); images: the CNN's first-stage channels (default 32).")
  Integer hidden;

  @Option(names = "--blocks", paramLabel = "N", defaultValue = "2",
      description = "Points: residual blocks (default: ${DEFAULT-VALUE}).")
  int blocks;

  @Option(names = "--sigma-range", paramLabel = "MIN,MAX", split = ",", defaultValue = "0.002,100",
      description = "Noise levels trained on, log-uniform (default: ${DEFAULT-VALUE}); cover the sampler's grid.")
  double[] sigmaRange;

  @Option(names = "--resolution", paramLabel = "PX",
      description = "images:DIR: resize and centre-crop to PX (default 32; use the model run's resolution).")
  Integer resolution;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Run seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (sigmaRange.length != 2) {
      throw new IllegalArgumentException("--sigma-range takes MIN,MAX, got " + sigmaRange.length + " values");
    }
    if (steps < 1 || batch < 1) {
      throw new IllegalArgumentException("--steps and --batch must be >= 1");
    }
    if (hidden != null && hidden < 1) {
      throw new IllegalArgumentException("--hidden must be >= 1, got " + hidden);
    }
    if (resolution != null && resolution < 1) {
      throw new IllegalArgumentException("--resolution must be >= 1, got " + resolution);
    }
    org.diffusion4j.train.data.DataOptions options = org.diffusion4j.train.data.DataOptions.defaults();
    org.diffusion4j.train.data.DataSource source = DataSources.parse(data,
        resolution == null ? options : options.withResolution(resolution));
    int width = hidden != null ? hidden : source.sampleShape().length == 3 ? 32 : 128;
    ClassifierRun.Config c = ClassifierRun.plan(source, data, width, blocks, sigmaRange[0], sigmaRange[1], steps, batch, lr,
        seed);
    RunDirs.checkNew(out);
    try (ClassifierRun r = ClassifierRun.train(c, source, out, null)) {
      w.printf(Locale.ROOT, "classifier of %d classes on %s trained %d steps (σ %s–%s) into %s%n", c.classes(), data,
          r.step(), Format.num(c.sigmaMin()), Format.num(c.sigmaMax()), out);
    }
    return 0;
  }
}
