package org.diffusion4j.train.transport;

import ai.djl.nn.Block;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.NetworkDenoiser;

/** Builds the trainer of a flow-matching run: its pairs, its loss, the config with its "flow" section. */
public final class FlowTraining {
  private FlowTraining() {}

  /** The file name of a reflow round's stored pairs inside its run directory. */
  public static final String PAIRS = "pairs.npy";

  /**
   * A trainer of {@code network} on {@code spec}'s pairs towards {@code target}.
   *
   * @param config the run's configuration (its objective is {@code spec}'s)
   * @param runDir the run directory (a pairs coupling reads {@code spec.pairs()} relative to it)
   */
  public static Trainer trainer(RunConfig config, FlowSpec spec, DataSource target, Block network, Path runDir,
      Trainer.Listener listener) throws IOException {
    PairSource pairs;
    if (spec.coupling().equals("pairs")) {
      pairs = readPairs(runDir.resolve(spec.pairs()), config.sampleShape());
    } else {
      pairs = PairSource.coupled(spec.sourceFor(config.sampleShape()), target, spec.minibatchCoupling(),
          config.classes() > 0);
    }
    return new Trainer(Map.of(Trainer.MODEL, new NetworkDenoiser(network, new Preconditioning.Flow())), Map.of(),
        Map.of(), spec.oneStep() ? new OneStepDistillationLoss(Trainer.MODEL)
        : new FlowMatchingLoss(spec.conditionalPath()), pairs.batches(), config.training().options(), runDir,
        spec.embedInto(config.toJson()), listener);
  }

  /** Stored pairs {@code [count, 2, …]} as a pair source. */
  public static PairSource readPairs(Path file, long[] sampleShape) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no pairs file " + file);
    }
    NpyArray a = Npy.read(file);
    long[] s = a.shape();
    if (s.length < 3 || s[1] != 2) {
      throw new IllegalArgumentException(file + ": pairs must be shaped [count, 2, …], got " + a.shapeText());
    }
    int count = Math.toIntExact(s[0]);
    int d = a.size() / (2 * count);
    float[] z0 = new float[count * d];
    float[] z1 = new float[count * d];
    for (int i = 0; i < count; i++) {
      for (int j = 0; j < d; j++) {
        z0[i * d + j] = (float) a.data()[(2 * i) * d + j];
        z1[i * d + j] = (float) a.data()[(2 * i + 1) * d + j];
      }
    }
    return PairSource.fixed(z0, z1, sampleShape);
  }

  /** Writes pairs (row-major [count, d] each) as {@code [count, 2, d]}. */
  public static void writePairs(Path file, double[] z0, double[] z1, int count, long[] sampleShape) throws IOException {
    int d = z0.length / count;
    double[] out = new double[2 * z0.length];
    for (int i = 0; i < count; i++) {
      System.arraycopy(z0, i * d, out, 2 * i * d, d);
      System.arraycopy(z1, i * d, out, (2 * i + 1) * d, d);
    }
    long[] shape = new long[sampleShape.length + 2];
    shape[0] = count;
    shape[1] = 2;
    System.arraycopy(sampleShape, 0, shape, 2, sampleShape.length);
    Npy.write(file, out, shape, true);
  }
}
