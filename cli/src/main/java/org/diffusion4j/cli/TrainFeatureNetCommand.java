package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code d4j train-feature-net}: trains the MNIST feature network of the sample-quality metrics and writes
 * its weights with their provenance (command, test accuracy, date) in the safetensors metadata.
 */
@Command(name = "train-feature-net", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Train the small MNIST classifier whose features define the MNIST feature distance, KID and "
        + "precision/recall of 'd4j eval', and write its weights (safetensors, provenance in the metadata).",
        "The test accuracy on the t10k images is measured and stored."},
    footer = {"", "Example (the shipped weights):",
        "  d4j train-feature-net --data mnist:../shared/data/mnist --out mnist-classifier.safetensors"})
public final class TrainFeatureNetCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--data", required = true, paramLabel = "mnist:DIR",
      description = "The MNIST directory (train and t10k IDX files).")
  String data;

  @Option(names = "--out", required = true, paramLabel = "FILE.safetensors", description = "Where to write the weights.")
  Path out;

  @Option(names = "--run", paramLabel = "DIR",
      description = "The trainer's run directory (checkpoints; a new or empty directory). Default: a temporary one.")
  Path run;

  @Option(names = "--steps", defaultValue = "2400", description = "Optimiser steps (default: ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--batch", defaultValue = "256", description = "Examples per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate, cosine decay (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--quiet", description = "No progress lines.")
  boolean quiet;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    // One intra-op thread unless told otherwise: deterministic, and on a shared machine several times faster
    // than threads that wait for each other (set before the engine starts).
    System.setProperty("ai.djl.pytorch.num_threads", System.getProperty("ai.djl.pytorch.num_threads", "1"));
    System.setProperty("ai.djl.pytorch.num_interop_threads",
        System.getProperty("ai.djl.pytorch.num_interop_threads", "1"));
    if (!data.startsWith("mnist:") || data.endsWith(":test") || data.endsWith(":train")) {
      throw new IllegalArgumentException("--data must be mnist:DIR (the directory with the train and t10k files), got '"
          + data + "'");
    }
    SampleCommand.kind(out, "--out", "safetensors");
    if (Files.exists(out)) {
      throw new IllegalArgumentException("--out " + out + " exists; choose a new file");
    }
    DataSource train = DataSources.parse(data);
    DataSource test = DataSources.parse(data + ":test");
    Path dir = run != null ? run : Files.createTempDirectory("d4j-classifier");
    if (run != null && Files.isDirectory(run)) {
      try (var s = Files.list(run)) {
        if (s.findAny().isPresent()) {
          throw new IllegalArgumentException("--run " + run + " is not empty; choose a new or empty directory");
        }
      }
    }
    long t0 = System.nanoTime();
    Trainer.Listener progress = quiet ? null : new Trainer.Listener() {
      @Override
      public void onLog(Trainer.StepLog l) {
        if (l.step() % 200 == 0 || l.step() == l.steps()) {
          w.printf(Locale.ROOT, "step %d/%d  loss %.4f  batch accuracy %.3f  %.1f steps/s%n", l.step(), l.steps(),
              l.loss(), l.metrics().getOrDefault("accuracy", Double.NaN), l.stepsPerSecond());
          w.flush();
        }
      }
    };
    try (MnistClassifier c = MnistClassifier.train(train, steps, batch, lr, seed, dir, progress)) {
      DataSource.HostBatch t = test.first(Integer.MAX_VALUE - 8, 0);
      double acc = c.accuracy(t.x(), t.labels());
      double minutes = (System.nanoTime() - t0) / 6e10;
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("network", "MnistCnn (conv3x3-16, pool, conv3x3-32, pool, dense-128 features, dense-10)");
      meta.put("command", "d4j train-feature-net --data " + data + " --out " + out.getFileName() + " --steps " + steps
          + " --batch " + batch + " --lr " + lr + " --seed " + seed);
      meta.put("test_accuracy", String.format(Locale.ROOT, "%.4f", acc));
      meta.put("test_set", "MNIST t10k (" + t.labels().length + " images)");
      meta.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
      meta.put("training_minutes", String.format(Locale.ROOT, "%.1f", minutes));
      meta.put("weights", "EMA (decay 0.999)");
      c.save(out, meta);
      w.printf(Locale.ROOT, "test accuracy %.4f on %d images; wrote %s (%.1f min)%n", acc, t.labels().length, out, minutes);
      return 0;
    }
  }
}
