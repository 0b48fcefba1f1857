package org.diffusion4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j spark-eval}: FD and KID of a run's samples, generated and featurised on a Spark cluster. */
@Command(name = "spark-eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Sample N seeds of a trained run on Spark; each partition reduces its samples to feature statistics "
        + "(means, covariance sums, kernel moments), a tree reduction pools them, and the driver prints the Fréchet "
        + "distance and KID ×10³ against reference data.",
        "Features: the shipped MNIST classifier's 128 for [1, 28, 28] images, raw coordinates otherwise. KID is the "
            + "full-set unbiased estimate (every pair), not d4j eval's subset average."},
    footer = {"", "Example:",
        "  d4j spark-eval --model runs/mnist --data mnist:../shared/data/mnist:test --sampler dpmpp-2m --steps 10 --n 10000"})
public final class SparkEval implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  JobOptions job;

  @Option(names = "--data", paramLabel = "SPEC", description = "Reference data (default: the run's training data).")
  String data;

  @Option(names = "--reference", paramLabel = "N", description = "Reference points (default: --n, at most 2^31-9).")
  Integer reference;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the result as JSON.")
  Path out;

  @Override
  public Integer call() throws IOException {
    SampleJob j = job.job();
    int ref = reference != null ? reference : Math.toIntExact(j.count());
    if (ref < 2) {
      throw new IllegalArgumentException("--reference must be >= 2, got " + ref);
    }
    PrintWriter w = spec.commandLine().getOut();
    SparkSession s = job.session("d4j spark-eval");
    try {
      int p = job.partitions(s);
      long t0 = System.nanoTime();
      SparkSampling.Evaluation e = SparkSampling.evaluate(s, j, p, data, ref);
      double sec = (System.nanoTime() - t0) / 1e9;
      String js = String.format(Locale.ROOT, "{\"model\": \"%s\", \"sampler\": \"%s\", \"steps\": %d, \"n\": %d, "
          + "\"reference\": %d, \"feature_space\": \"%s\", \"fd\": %s, \"kid\": %s, \"partitions\": %d, \"seconds\": %.3f}",
          j.model().replace("\\", "\\\\").replace("\"", "\\\""), j.sampler(), j.steps(), e.samples(), e.reference(),
          e.featureSpace(), Double.toString(e.fd()), Double.toString(e.kid()), j.ranges(p).size(), sec);
      w.printf(Locale.ROOT, "%d samples of run %s (%s, %d steps) in %d partitions vs %d reference points, features %s%n",
          e.samples(), j.model(), j.sampler(), j.steps(), j.ranges(p).size(), e.reference(), e.featureSpace());
      w.printf(Locale.ROOT, "fd   %.6g%nkid  %.6g (×10³)%ntime %.1f s%n", e.fd(), e.kid(), sec);
      if (out != null) {
        Files.writeString(out, js + "\n", StandardCharsets.UTF_8);
        w.printf("wrote %s%n", out);
      }
      w.flush();
      return 0;
    } finally {
      s.stop();
    }
  }

  public static void main(String[] args) {
    System.exit(Main.run(new SparkEval(), args));
  }
}
