package org.diffusion4j.spark;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j spark-sample}: a run's samples for a seed range, sharded over a Spark cluster, as Parquet. */
@Command(name = "spark-sample", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Sample seeds SEED..SEED+N-1 of a trained run on Spark and write rows (seed, sample) as Parquet.",
        "The output equals d4j sample with the same sampler, grid, seeds and batch, bit for bit."},
    footer = {"", "Examples:",
        "  d4j spark-sample --model runs/mnist --sampler dpmpp-2m --steps 10 --n 10000 --out samples.parquet",
        "  spark-submit --class org.diffusion4j.spark.SparkSample --jars \"$(echo spark/target/lib/*.jar | tr ' ' ,)\" \\",
        "      spark/target/diffusion4j-spark-0.1.0-SNAPSHOT.jar --model /shared/runs/mnist --n 50000 --out /shared/s.parquet"})
public final class SparkSample implements Callable<Integer> {
  @Spec
  CommandLine.Model.CommandSpec spec;

  @Mixin
  JobOptions job;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "The Parquet output (a new directory).")
  String out;

  @Override
  public Integer call() {
    SampleJob j = job.job();
    PrintWriter w = spec.commandLine().getOut();
    SparkSession s = job.session("d4j spark-sample");
    try {
      int p = job.partitions(s);
      long t0 = System.nanoTime();
      SparkSampling.writeParquet(s, j, p, out);
      double sec = (System.nanoTime() - t0) / 1e9;
      w.printf(Locale.ROOT, "%d samples of run %s (%s, %d steps, seeds %d-%d, batch %d) in %d partitions: %.1f s, %.1f "
          + "samples/s%n", j.count(), j.model(), j.sampler(), j.steps(), j.firstSeed(), j.lastSeed(), j.batch(),
          j.ranges(p).size(), sec, j.count() / sec);
      w.printf("wrote %s%n", out);
      w.flush();
      return 0;
    } finally {
      s.stop();
    }
  }

  public static void main(String[] args) {
    System.exit(Main.run(new SparkSample(), args));
  }
}
