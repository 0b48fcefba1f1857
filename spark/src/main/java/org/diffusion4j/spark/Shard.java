package org.diffusion4j.spark;

import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.function.Consumer;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridOptions;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.KernelStatistics;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;

/** One partition's work on an executor: sampling its seed range, and the statistics of its samples. */
public final class Shard {
  private Shard() {}

  /** The sampling run of {@code range} as {@code job} describes it, on {@code model}. */
  public static Sampling sampling(SampleJob job, TrainedModel model, SeedRange range) {
    RunConfig rc = model.config();
    Grid grid = GridOptions.of(job.grid()).spec().build(rc.process(), job.steps());
    int n = Math.toIntExact(range.count());
    Conditioning c = Conditioning.NONE;
    if (rc.classes() > 0) {
      long label = job.label() == null ? Conditioning.NULL_LABEL : job.label();
      if (label != Conditioning.NULL_LABEL && (label < 0 || label >= rc.classes())) {
        throw new IllegalArgumentException("class " + label + " is outside 0.." + (rc.classes() - 1) + " of run "
            + job.model());
      }
      c = Conditioning.label(label, n);
    } else if (job.label() != null) {
      throw new IllegalArgumentException("run " + job.model() + " is unconditional; it takes no class label");
    }
    return Sampling.of(model.denoiser(), rc.sampleShape())
        .sampler(SamplerRegistry.create(job.sampler(), job.params()))
        .grid(grid)
        .seeds(range.first(), range.last())
        .batch(Math.min(job.batch(), n))
        .dtype(job.dtype().equals("float32") ? DataType.FLOAT32 : DataType.FLOAT64)
        .device(model.device())
        .conditioning(c);
  }

  /**
   * Samples the range batch by batch and hands each sample to {@code out} in the run's data units (the model's
   * scaling undone, as {@code d4j sample --out x.npy} writes them).
   */
  public static void samples(SampleJob job, SeedRange range, SampleConsumer out) {
    TrainedModel tm = ExecutorModels.run(job.model(), job.ema(), job.device());
    int d = dim(tm.config());
    sampling(job, tm, range).stream(b -> {
      double[] s = b.samples();
      for (int k = 0; k < b.seeds().length; k++) {
        double[] v = Arrays.copyOfRange(s, k * d, (k + 1) * d);
        for (int i = 0; i < d; i++) {
          v[i] = tm.config().scaling().invert(v[i]);
        }
        out.accept(b.seeds()[k], v);
      }
    });
  }

  /** Receives one sample. */
  @FunctionalInterface
  public interface SampleConsumer {
    void accept(long seed, double[] sample);
  }

  /**
   * The feature statistics (Fréchet, then kernel) of the range's samples, serialised: MNIST classifier features
   * for [1, 28, 28] images, the raw coordinates (data scale) otherwise.
   */
  public static byte[][] statistics(SampleJob job, SeedRange range) {
    TrainedModel tm = ExecutorModels.run(job.model(), job.ema(), job.device());
    boolean images = images(tm.config());
    MnistClassifier clf = images ? ExecutorModels.classifier() : null;
    int fd = featureDim(tm.config());
    FeatureStatistics f = new FeatureStatistics(fd);
    KernelStatistics k = new KernelStatistics(fd);
    Consumer<Sampling.Batch> add = b -> {
      double[] feat = clf == null ? b.samples() : clf.apply(b.samples()).features();
      f.add(feat);
      k.add(feat);
    };
    sampling(job, tm, range).stream(add);
    return new byte[][] {f.toBytes(), k.toBytes()};
  }

  /** Merges two serialised statistics pairs (the step of the tree reduction). */
  public static byte[][] merge(byte[][] a, byte[][] b) {
    return new byte[][] {FeatureStatistics.fromBytes(a[0]).merge(FeatureStatistics.fromBytes(b[0])).toBytes(),
        KernelStatistics.fromBytes(a[1]).merge(KernelStatistics.fromBytes(b[1])).toBytes()};
  }

  static boolean images(RunConfig rc) {
    return Arrays.equals(rc.sampleShape(), new long[] {1, 28, 28});
  }

  static int featureDim(RunConfig rc) {
    return images(rc) ? org.diffusion4j.train.nn.MnistCnn.FEATURES : dim(rc);
  }

  static int dim(RunConfig rc) {
    return Math.toIntExact(Arrays.stream(rc.sampleShape()).reduce(1, (a, b) -> a * b));
  }
}
