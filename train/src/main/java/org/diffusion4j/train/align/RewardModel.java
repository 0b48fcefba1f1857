package org.diffusion4j.train.align;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.guidance.Reward;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.NetworkConfig;

/**
 * A Bradley–Terry reward model trained by {@link Alignment#trainReward} (a run directory of format
 * {@value #FORMAT}), loaded with its EMA weights as a differentiable {@link Reward} for
 * {@link org.diffusion4j.guidance.RewardGuidance} and as a host-side {@link Scorer}. Inputs are samples in
 * the model run's stored scale, as the pairs it was trained on.
 */
public final class RewardModel implements AutoCloseable {
  /** Format tag of a reward run's config. */
  public static final String FORMAT = "diffusion4j-reward-1";

  private final NDManager manager;
  private final Block network;
  private final long[] sampleShape;

  private RewardModel(NDManager manager, Block network, long[] sampleShape) {
    this.manager = manager;
    this.network = network;
    this.sampleShape = sampleShape;
  }

  /** Loads the reward run in {@code dir}. */
  public static RewardModel load(Path dir) throws IOException {
    if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--reward " + dir + ": no reward model here (no " + Checkpoint.CONFIG
          + "; train one with d4j align --method reward)");
    }
    JsonObject o;
    try {
      o = JsonParser.parseString(Checkpoint.readConfig(dir)).getAsJsonObject();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--reward " + dir + ": config.json is not a JSON object");
    }
    if (!o.has("format") || !FORMAT.equals(o.get("format").getAsString())) {
      throw new IllegalArgumentException("--reward " + dir + ": not a reward model (format " + o.get("format")
          + ", expected " + FORMAT + "; train one with d4j align --method reward)");
    }
    NetworkConfig net = NetworkConfig.fromJson(o.get("network").toString());
    long[] shape = new com.google.gson.Gson().fromJson(o.get("sample_shape"), long[].class);
    NDManager m = NDManager.newBaseManager();
    try {
      Block b = net.build();
      long[] s = new long[shape.length + 1];
      s[0] = 1;
      System.arraycopy(shape, 0, s, 1, shape.length);
      b.initialize(m, DataType.FLOAT32, new Shape(s), new Shape(1));
      Trainer.loadInto(Trainer.parameters(b), Checkpoint.readWeights(dir, true), dir.resolve(Checkpoint.EMA).toString());
      return new RewardModel(m, b, shape);
    } catch (RuntimeException | IOException e) {
      m.close();
      throw e;
    }
  }

  /** The shape of one sample the reward takes. */
  public long[] sampleShape() {
    return sampleShape.clone();
  }

  /** r(x0), differentiable in x0 (inference-mode parameters). */
  public Reward reward() {
    return x0 -> BradleyTerryLoss.reward(network, new ParameterStore(x0.getManager(), false), x0, false);
  }

  /** r as a host-side scorer of samples in stored scale. */
  public Scorer scorer() {
    return (x, d) -> {
      long per = java.util.Arrays.stream(sampleShape).reduce(1, (u, v) -> u * v);
      if (d != per) {
        throw new IllegalArgumentException("the reward model takes samples of " + per + " values, got " + d);
      }
      int n = x.length / d;
      double[] out = new double[n];
      for (int from = 0; from < n; from += 256) {
        int k = Math.min(256, n - from);
        try (NDManager m = manager.newSubManager()) {
          long[] s = new long[sampleShape.length + 1];
          s[0] = k;
          System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
          float[] f = new float[k * d];
          for (int i = 0; i < f.length; i++) {
            f[i] = (float) x[from * d + i];
          }
          double[] r = reward().value(m.create(f, new Shape(s))).toType(DataType.FLOAT64, false).toDoubleArray();
          System.arraycopy(r, 0, out, from, k);
        }
      }
      return out;
    };
  }

  @Override
  public void close() {
    manager.close();
  }
}
