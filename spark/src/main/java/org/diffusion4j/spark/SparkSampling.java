package org.diffusion4j.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.KernelStatistics;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * Sampling and evaluating a trained run on a Spark cluster: the seed range is cut into partitions of whole
 * batches, each executor loads the run once ({@link ExecutorModels}) and samples its partitions, and samples
 * come back as rows {@code (seed, sample)} (Parquet on disk) or as feature statistics that a tree reduction
 * pools into one Fréchet distance and KID. Each sample depends only on its seed, so the output equals a
 * single process's run of the same job bit for bit. Training stays on one node: DJL has no multi-machine
 * training.
 */
public final class SparkSampling {
  /** The rows: the seed and the sample, flattened row-major in the run's data units. */
  public static final StructType SCHEMA = new StructType()
      .add("seed", DataTypes.LongType, false)
      .add("sample", DataTypes.createArrayType(DataTypes.DoubleType, false), false);

  private SparkSampling() {}

  /** The samples of {@code job} as rows {@code (seed, sample)}, computed in {@code partitions} partitions. */
  public static Dataset<Row> sample(SparkSession spark, SampleJob job, int partitions) {
    check(job);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<SeedRange> ranges = job.ranges(partitions);
    JavaRDD<Row> rows = jsc.parallelize(ranges, ranges.size()).flatMap(r -> {
      List<Row> out = new ArrayList<>();
      Shard.samples(job, r, (seed, v) -> {
        Double[] boxed = new Double[v.length];
        for (int i = 0; i < v.length; i++) {
          boxed[i] = v[i];
        }
        out.add(RowFactory.create(seed, boxed));
      });
      return out.iterator();
    });
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** Samples {@code job} and writes the rows as Parquet to {@code out} (a new directory). */
  public static long writeParquet(SparkSession spark, SampleJob job, int partitions, String out) {
    Dataset<Row> rows = sample(spark, job, partitions);
    rows.write().mode(SaveMode.ErrorIfExists).parquet(out);
    return job.count();
  }

  /**
   * The result of a sharded evaluation.
   *
   * @param samples samples generated
   * @param reference reference points
   * @param featureSpace "mnist-classifier-128" or "raw"
   * @param fd the Fréchet distance of the samples' and the reference's feature statistics
   * @param kid the unbiased full-set KID ×10³
   */
  public record Evaluation(long samples, long reference, String featureSpace, double fd, double kid) {}

  /**
   * Samples {@code job} on the cluster and compares the samples with {@code reference} points of {@code data}
   * (a data spec; null: the run's training data), drawn as {@code d4j eval} draws them.
   */
  public static Evaluation evaluate(SparkSession spark, SampleJob job, int partitions, String data, int reference) {
    RunConfig rc = check(job);
    byte[][] ref = referenceStatistics(rc, data, reference, job.firstSeed());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<SeedRange> ranges = job.ranges(partitions);
    byte[][] pooled = jsc.parallelize(ranges, ranges.size()).map(r -> Shard.statistics(job, r)).treeReduce(Shard::merge);
    return evaluation(pooled, ref, Shard.images(rc));
  }

  /** Checks on the driver what executors would otherwise fail on: the run's config and the class label. */
  static RunConfig check(SampleJob job) {
    RunConfig rc;
    try {
      rc = TrainedModel.readConfig(Path.of(job.model()));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read run " + job.model() + ": " + e.getMessage(), e);
    }
    if (rc.classes() == 0 && job.label() != null) {
      throw new IllegalArgumentException("run " + job.model() + " is unconditional; it takes no class label");
    }
    if (job.label() != null && job.label() != org.diffusion4j.denoiser.Conditioning.NULL_LABEL
        && (job.label() < 0 || job.label() >= rc.classes())) {
      throw new IllegalArgumentException("class " + job.label() + " is outside 0.." + (rc.classes() - 1) + " of run "
          + job.model());
    }
    return rc;
  }

  /** FD and KID of pooled sample statistics against reference statistics (both as {@link Shard#statistics}). */
  public static Evaluation evaluation(byte[][] samples, byte[][] reference, boolean images) {
    FeatureStatistics fs = FeatureStatistics.fromBytes(samples[0]);
    FeatureStatistics fr = FeatureStatistics.fromBytes(reference[0]);
    KernelStatistics ks = KernelStatistics.fromBytes(samples[1]);
    KernelStatistics kr = KernelStatistics.fromBytes(reference[1]);
    return new Evaluation(fs.count(), fr.count(), images ? "mnist-classifier-128" : "raw", FrechetDistance.of(fs, fr),
        ks.kid(kr) * 1e3);
  }

  /**
   * The statistics of {@code n} reference points of {@code data} (null: the run's data): the first n of a finite
   * set, or n draws of a generator seeded by {@code firstSeed + 1 000 003} as {@code d4j eval} draws them.
   */
  public static byte[][] referenceStatistics(RunConfig rc, String data, int n, long firstSeed) {
    String spec = data != null ? data : rc.data();
    DataSource src = DataSources.parse(spec);
    if (!java.util.Arrays.equals(src.sampleShape(), rc.sampleShape())) {
      throw new IllegalArgumentException("data " + spec + " has samples of shape "
          + java.util.Arrays.toString(src.sampleShape()) + " but the run's are " + java.util.Arrays.toString(rc.sampleShape()));
    }
    float[] x = src.first(n, firstSeed + 1_000_003L).x();
    int d = Shard.dim(rc);
    if (x.length / d < n) {
      throw new IllegalArgumentException("data " + spec + " has " + x.length / d + " samples, fewer than " + n);
    }
    double[] feat;
    if (Shard.images(rc)) {
      try (MnistClassifier clf = MnistClassifier.shipped()) {
        feat = clf.apply(x).features();
      }
    } else {
      feat = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        feat[i] = x[i];
      }
    }
    int fd = Shard.featureDim(rc);
    return new byte[][] {new FeatureStatistics(fd).add(feat).toBytes(), new KernelStatistics(fd).add(feat).toBytes()};
  }
}
