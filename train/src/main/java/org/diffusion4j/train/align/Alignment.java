package org.diffusion4j.train.align;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
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
import java.util.Map;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Learning from preferences on the pluggable trainer: a trained run is the frozen reference; a copy of it
 * is fine-tuned with {@link DiffusionDpoLoss} or {@link RewardWeightedLoss} into a new run directory that
 * every command samples like any other run ({@code config.json} is the reference's, with an
 * {@code "alignment"} record of what was done). {@link #trainReward} fits a {@link BradleyTerryLoss}
 * reward model.
 */
public final class Alignment {
  private Alignment() {}

  /** Fine-tunes a copy of {@code reference} with Diffusion-DPO on {@code pairs}. */
  public static TrainedModel dpo(Path reference, PreferencePairs pairs, double beta, boolean linear,
      TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    RunConfig rc = TrainedModel.readConfig(reference);
    requireShape(rc, pairs.sampleShape());
    DiffusionDpoLoss loss = new DiffusionDpoLoss(rc.objectiveValue(), beta, linear, Trainer.MODEL,
        DiffusionDpoLoss.REFERENCE);
    JsonObject note = new JsonObject();
    note.addProperty("method", linear ? "dpo-linear" : "dpo");
    note.addProperty("beta", beta);
    note.addProperty("pairs", pairs.size());
    return fineTune(reference, rc, loss, pairs.batches(), settings, out, note, listener);
  }

  /** Fine-tunes a copy of {@code reference} on {@code samples} (stored scale, n·d) weighted by {@code exp(r/β)}. */
  public static TrainedModel rewardWeighted(Path reference, double[] samples, Scorer scorer, double beta, double kl,
      TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    RunConfig rc = TrainedModel.readConfig(reference);
    long[] shape = rc.sampleShape();
    int d = 1;
    for (long v : shape) {
      d *= (int) v;
    }
    int count = samples.length / d;
    if (count < 1 || samples.length % d != 0) {
      throw new IllegalArgumentException("reward-weighted fine-tuning needs whole samples of " + d + " values");
    }
    int dim = d;
    Trainer.Batches batches = (m, n, rng) -> {
      float[] x = new float[n * dim];
      for (int i = 0; i < n; i++) {
        int k = rng.nextInt(count);
        for (int j = 0; j < dim; j++) {
          x[i * dim + j] = (float) samples[k * dim + j];
        }
      }
      long[] s = new long[shape.length + 1];
      s[0] = n;
      System.arraycopy(shape, 0, s, 1, shape.length);
      return new DataSource.Batch(m.create(x, new Shape(s)), null);
    };
    JsonObject note = new JsonObject();
    note.addProperty("method", "reward-weighted");
    note.addProperty("beta", beta);
    note.addProperty("kl", kl);
    return fineTune(reference, rc, new RewardWeightedLoss(rc.objectiveValue(), scorer, beta, kl), batches, settings,
        out, note, listener);
  }

  private static void requireShape(RunConfig rc, long[] shape) {
    if (!java.util.Arrays.equals(rc.sampleShape(), shape)) {
      throw new IllegalArgumentException("the pairs have samples of shape " + java.util.Arrays.toString(shape)
          + " but the model's are " + java.util.Arrays.toString(rc.sampleShape()));
    }
  }

  private static TrainedModel fineTune(Path reference, RunConfig rc, TrainingLoss loss, Trainer.Batches batches,
      TrainSettings settings, Path out, JsonObject note, Trainer.Listener listener) throws IOException {
    if (Files.exists(out.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException(out + " already holds a run; choose another --out");
    }
    RunConfig tuned = rc.withTraining(settings);
    JsonObject config = JsonParser.parseString(tuned.toJson()).getAsJsonObject();
    note.addProperty("reference", reference.toAbsolutePath().toString());
    config.add("alignment", note);
    try (NDManager m = org.diffusion4j.device.Devices.newManager(); TrainedModel ref = TrainedModel.load(reference, true)) {
      Engine.getInstance().setRandomSeed((int) (settings.seed() & 0x7fffffff));
      Block net = TrainedModel.newNetwork(tuned, m);
      Map<String, Tensor> weights = Checkpoint.readWeights(reference, true);
      Trainer.loadInto(Trainer.parameters(net), weights, reference.resolve(Checkpoint.EMA).toString());
      NetworkDenoiser model = new NetworkDenoiser(net, tuned.objectiveValue().preconditioning());
      new Trainer(Map.of(Trainer.MODEL, model), Map.of(DiffusionDpoLoss.REFERENCE, ref.denoiser()), Map.of(), loss,
          batches, settings.options(), out, config.toString(), listener).run(false);
    }
    return TrainedModel.load(out, true);
  }

  /** A trained reward model and its accuracy on held-out pairs. */
  public record Reward(Path run, double heldOutAccuracy, double trainAccuracy) {}

  /**
   * Trains a Bradley–Terry reward network of shape {@code network} on {@code train} into {@code out} and
   * measures its accuracy on {@code heldOut}.
   */
  public static Reward trainReward(PreferencePairs train, PreferencePairs heldOut, NetworkConfig network,
      TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    JsonObject config = new JsonObject();
    config.addProperty("format", "diffusion4j-reward-1");
    config.add("network", JsonParser.parseString(network.toJson()));
    config.add("sample_shape", new com.google.gson.Gson().toJsonTree(train.sampleShape()));
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      Engine.getInstance().setRandomSeed((int) (settings.seed() & 0x7fffffff));
      Block net = network.build();
      long[] s = new long[train.sampleShape().length + 1];
      s[0] = 1;
      System.arraycopy(train.sampleShape(), 0, s, 1, train.sampleShape().length);
      net.initialize(m, DataType.FLOAT32, new Shape(s), new Shape(1));
      NetworkDenoiser holder = new NetworkDenoiser(net, new org.diffusion4j.denoiser.Preconditioning.Edm(0.5));
      new Trainer(Map.of(Trainer.MODEL, holder), Map.of(), Map.of(), new BradleyTerryLoss(), train.batches(),
          settings.options(), out, config.toString(), listener).run(false);
      return new Reward(out, accuracy(net, heldOut, m), accuracy(net, train, m));
    }
  }

  /** The fraction of pairs whose preferred sample gets the higher reward. */
  public static double accuracy(Block rewardNetwork, PreferencePairs pairs, NDManager manager) {
    try (NDManager m = manager.newSubManager()) {
      int n = pairs.size();
      long[] s = new long[pairs.sampleShape().length + 1];
      s[0] = n;
      System.arraycopy(pairs.sampleShape(), 0, s, 1, pairs.sampleShape().length);
      ParameterStore ps = new ParameterStore(m, false);
      NDArray w = BradleyTerryLoss.reward(rewardNetwork, ps, m.create(pairs.preferred(), new Shape(s)), false);
      NDArray l = BradleyTerryLoss.reward(rewardNetwork, ps, m.create(pairs.rejected(), new Shape(s)), false);
      return w.gt(l).toType(DataType.FLOAT32, false).mean().getFloat();
    }
  }
}
