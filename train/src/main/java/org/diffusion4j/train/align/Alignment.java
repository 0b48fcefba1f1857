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
    checkFresh(out);
    pairs.write(out.resolve(PAIRS));
    return fineTune(reference, rc, loss, pairs.batches(), settings, out, note, listener);
  }

  /** Fine-tunes a copy of {@code reference} on {@code samples} (stored scale, n·d) weighted by {@code exp(r/β)}. */
  public static TrainedModel rewardWeighted(Path reference, double[] samples, Scorer scorer, double beta, double kl,
      TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    return rewardWeighted(reference, samples, scorer, null, beta, kl, settings, out, listener);
  }

  /**
   * As {@link #rewardWeighted(Path, double[], Scorer, double, double, TrainSettings, Path, Trainer.Listener)}
   * with the scorer given by its {@link Scorer#parse} spelling, recorded in the run so that {@link #resume}
   * can rebuild it.
   */
  public static TrainedModel rewardWeighted(Path reference, double[] samples, String scorer, double beta, double kl,
      TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    return rewardWeighted(reference, samples, Scorer.parse(scorer), scorer, beta, kl, settings, out, listener);
  }

  private static TrainedModel rewardWeighted(Path reference, double[] samples, Scorer scorer, String spec, double beta,
      double kl, TrainSettings settings, Path out, Trainer.Listener listener) throws IOException {
    RunConfig rc = TrainedModel.readConfig(reference);
    long[] shape = rc.sampleShape();
    Trainer.Batches batches = sampleBatches(samples, shape);
    JsonObject note = new JsonObject();
    note.addProperty("method", "reward-weighted");
    note.addProperty("beta", beta);
    note.addProperty("kl", kl);
    if (spec != null) {
      note.addProperty("scorer", spec);
    }
    checkFresh(out);
    int d = PreferencePairs.perSample(shape);
    long[] full = new long[shape.length + 1];
    full[0] = samples.length / d;
    System.arraycopy(shape, 0, full, 1, shape.length);
    Files.createDirectories(out);
    org.diffusion4j.io.Npy.write(out.resolve(SAMPLES), samples, full, true);
    return fineTune(reference, rc, new RewardWeightedLoss(rc.objectiveValue(), scorer, beta, kl), batches, settings,
        out, note, listener);
  }

  /** Uniform draws with replacement from n·d stored-scale samples. */
  private static Trainer.Batches sampleBatches(double[] samples, long[] shape) {
    int d = PreferencePairs.perSample(shape);
    int count = samples.length / d;
    if (count < 1 || samples.length % d != 0) {
      throw new IllegalArgumentException("reward-weighted fine-tuning needs whole samples of " + d + " values");
    }
    return (m, n, rng) -> {
      float[] x = new float[n * d];
      for (int i = 0; i < n; i++) {
        int k = rng.nextInt(count);
        for (int j = 0; j < d; j++) {
          x[i * d + j] = (float) samples[k * d + j];
        }
      }
      long[] s = new long[shape.length + 1];
      s[0] = n;
      System.arraycopy(shape, 0, s, 1, shape.length);
      return new DataSource.Batch(m.create(x, new Shape(s)), null);
    };
  }

  /** The preference pairs a DPO run keeps in its directory (for {@link #resume}). */
  public static final String PAIRS = "pairs.npy";
  /** The samples a reward-weighted run keeps in its directory (for {@link #resume}). */
  public static final String SAMPLES = "samples.npy";

  private static void checkFresh(Path out) {
    if (Files.exists(out.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException(out + " already holds a run; choose another --out");
    }
  }

  /** Whether {@code dir} holds a fine-tuning run of this class. */
  public static boolean isAlignmentRun(Path dir) throws IOException {
    if (!Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
      return false;
    }
    JsonObject o = JsonParser.parseString(Checkpoint.readConfig(dir)).getAsJsonObject();
    return o.has("alignment");
  }

  /**
   * Continues the fine-tuning run in {@code out} from its last checkpoint, to {@code steps} steps if given (else
   * its stored step count): the method, β, KL weight, scorer, reference and data are those the run stored, and
   * the steps taken are exactly those of an uninterrupted run (the trainer's (seed, step) generators).
   */
  public static TrainedModel resume(Path out, Long steps, Trainer.Listener listener) throws IOException {
    if (!isAlignmentRun(out)) {
      throw new IllegalArgumentException("--resume: " + out + " holds no fine-tuning run of d4j align");
    }
    JsonObject config = JsonParser.parseString(Checkpoint.readConfig(out)).getAsJsonObject();
    JsonObject note = config.getAsJsonObject("alignment");
    String method = note.get("method").getAsString();
    double beta = note.get("beta").getAsDouble();
    Path reference = Path.of(note.get("reference").getAsString());
    RunConfig rc = TrainedModel.readConfig(out);
    TrainSettings settings = steps == null ? rc.training() : rc.training().withSteps(steps);
    if (steps != null && steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    if (!Files.isRegularFile(reference.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--resume: the reference run " + reference + " of " + out + " is gone");
    }
    TrainingLoss loss;
    Trainer.Batches batches;
    switch (method) {
      case "dpo", "dpo-linear" -> {
        PreferencePairs pairs = PreferencePairs.readStored(out.resolve(PAIRS));
        loss = new DiffusionDpoLoss(rc.objectiveValue(), beta, method.equals("dpo-linear"), Trainer.MODEL,
            DiffusionDpoLoss.REFERENCE);
        batches = pairs.batches();
      }
      case "reward-weighted" -> {
        if (!note.has("scorer")) {
          throw new IllegalArgumentException("--resume: " + out + " does not record its scorer (tuned from Java with a "
              + "Scorer object); it cannot be rebuilt");
        }
        org.diffusion4j.io.NpyArray a = org.diffusion4j.io.Npy.read(out.resolve(SAMPLES));
        loss = new RewardWeightedLoss(rc.objectiveValue(), Scorer.parse(note.get("scorer").getAsString()), beta,
            note.get("kl").getAsDouble());
        batches = sampleBatches(a.data(), rc.sampleShape());
      }
      default -> throw new IllegalArgumentException("--resume: unknown alignment method '" + method + "' in " + out);
    }
    config = JsonParser.parseString(rc.withTraining(settings).toJson()).getAsJsonObject();
    config.add("alignment", note);
    try (NDManager m = NDManager.newBaseManager(); TrainedModel ref = TrainedModel.load(reference, true)) {
      Block net = TrainedModel.newNetwork(rc, m);
      NetworkDenoiser model = new NetworkDenoiser(net, rc.objectiveValue().preconditioning());
      new Trainer(Map.of(Trainer.MODEL, model), Map.of(DiffusionDpoLoss.REFERENCE, ref.denoiser()), Map.of(), loss,
          batches, settings.options(), out, config.toString(), listener).run(true);
    }
    return TrainedModel.load(out, true);
  }

  private static void requireShape(RunConfig rc, long[] shape) {
    if (!java.util.Arrays.equals(rc.sampleShape(), shape)) {
      throw new IllegalArgumentException("the pairs have samples of shape " + java.util.Arrays.toString(shape)
          + " but the model's are " + java.util.Arrays.toString(rc.sampleShape()));
    }
  }

  private static TrainedModel fineTune(Path reference, RunConfig rc, TrainingLoss loss, Trainer.Batches batches,
      TrainSettings settings, Path out, JsonObject note, Trainer.Listener listener) throws IOException {
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
