package org.diffusion4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import org.diffusion4j.sampling.SamplerParams;
import picocli.CommandLine.Option;

/** The options of {@code spark-sample} and {@code spark-eval} that describe the job and the session. */
final class JobOptions {
  @Option(names = "--model", required = true, paramLabel = "RUN",
      description = "A trained run directory on storage every executor reads (shared file system, same path everywhere).")
  String model;

  @Option(names = "--weights", defaultValue = "ema", description = "ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  @Option(names = "--sampler", defaultValue = "heun", description = "Sampler id (default: ${DEFAULT-VALUE}).")
  String sampler;

  @Option(names = "--param", paramLabel = "NAME=VALUE", description = "Sampler parameter, repeatable.")
  List<String> params = new ArrayList<>();

  @Option(names = "--grid", defaultValue = "karras", description = "Grid (default: ${DEFAULT-VALUE}).")
  String grid;

  @Option(names = "--steps", defaultValue = "18", description = "Grid steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--seed", defaultValue = "0", description = "First seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--n", required = true, description = "Number of samples: seeds SEED..SEED+N-1.")
  long n;

  @Option(names = "--batch", defaultValue = "64", description = "Samples per batch on an executor (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--dtype", defaultValue = "float64", description = "float64 or float32 (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(names = "--class", paramLabel = "K", description = "Class of a class-conditional run (default: the null label).")
  Long label;

  @Option(names = "--device", defaultValue = "cpu", description = "cpu, gpu or gpu:N on each executor (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--partitions", paramLabel = "P",
      description = "Partitions (default: the session's default parallelism); each holds whole batches.")
  Integer partitions;

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master when not run by spark-submit (default: local[*]).")
  String master;

  SampleJob job() {
    boolean ema = switch (weights.toLowerCase(Locale.ROOT)) {
      case "ema" -> true;
      case "raw" -> false;
      default -> throw new IllegalArgumentException("unknown --weights '" + weights + "'; accepted: ema, raw");
    };
    return new SampleJob(model, ema, sampler, SamplerParams.parseAssignments(params), grid, steps, seed, n, batch,
        dtype, label, device);
  }

  SparkSession session(String app) {
    SparkSession.Builder b = SparkSession.builder().appName(app);
    if (master != null) {
      b.master(master);
    } else if (System.getProperty("spark.master") == null) {
      b.master("local[*]");
    }
    return b.getOrCreate();
  }

  int partitions(SparkSession s) {
    int p = partitions != null ? partitions : s.sparkContext().defaultParallelism();
    if (p < 1) {
      throw new IllegalArgumentException("--partitions must be >= 1, got " + p);
    }
    return p;
  }
}
