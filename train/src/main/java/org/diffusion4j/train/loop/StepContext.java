package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * What a {@link TrainingLoss} sees of one micro-batch of a training step: the batch, the step's
 * generator, the networks being trained (by name), frozen networks (a teacher, a reference, a
 * classifier) and EMA target copies of the trained ones (the θ⁻ of consistency models).
 *
 * <p>Everything created in {@link #manager()} is closed when the step ends.
 */
public final class StepContext {
  private final NDManager manager;
  private final SplittableRandom rng;
  private final long step;
  private final DataSource.Batch batch;
  private final ParameterStore parameters;
  private final Map<String, NetworkDenoiser> trainable;
  private final Map<String, Denoiser> frozen;
  private final java.util.function.Function<String, NetworkDenoiser> targets;

  /**
   * A context for one micro-batch; the trainer makes these, and a test or an evaluation can make one to
   * compute a loss outside the loop.
   *
   * @param targets the EMA copy of a trainable network, by name
   */
  public StepContext(NDManager manager, SplittableRandom rng, long step, DataSource.Batch batch, ParameterStore parameters,
      Map<String, NetworkDenoiser> trainable, Map<String, Denoiser> frozen,
      java.util.function.Function<String, NetworkDenoiser> targets) {
    this.manager = manager;
    this.rng = rng;
    this.step = step;
    this.batch = batch;
    this.parameters = parameters;
    this.trainable = trainable;
    this.frozen = frozen;
    this.targets = targets;
  }

  /** The step's manager: arrays created here are closed at the end of the step. */
  public NDManager manager() {
    return manager;
  }

  /** The step's generator, a pure function of (run seed, step): draw every random number from it. */
  public SplittableRandom rng() {
    return rng;
  }

  /** The optimiser step being taken (0-based). */
  public long step() {
    return step;
  }

  /** The micro-batch: data FLOAT32 {@code [n, …]} and labels or null. */
  public DataSource.Batch batch() {
    return batch;
  }

  /** The batch's labels as a conditioning ({@link Conditioning#NONE} when the data has none). */
  public Conditioning conditioning() {
    return batch.labels() == null ? Conditioning.NONE : Conditioning.ofLabels(batch.labels().toLongArray());
  }

  /** The training parameter store (pass it to {@link NetworkDenoiser#forward} with training = true). */
  public ParameterStore parameters() {
    return parameters;
  }

  /** A network being trained, by name ({@link Trainer#MODEL} for a single-network run). */
  public NetworkDenoiser trainable(String name) {
    NetworkDenoiser d = trainable.get(name);
    if (d == null) {
      throw new IllegalArgumentException("no trainable network '" + name + "'; the run trains " + trainable.keySet());
    }
    return d;
  }

  /** A frozen network (not updated, not checkpointed), by name. */
  public Denoiser frozen(String name) {
    Denoiser d = frozen.get(name);
    if (d == null) {
      throw new IllegalArgumentException("no frozen network '" + name + "'; the run has " + frozen.keySet());
    }
    return d;
  }

  /**
   * The EMA copy of trainable network {@code name} as it stands before this step's update (a target
   * network θ⁻); evaluate it in inference mode.
   */
  public NetworkDenoiser target(String name) {
    trainable(name);
    return targets.apply(name);
  }

  /** {@code x̂ = x0 + σ·ε} with one σ per row of x0, broadcast over the row's elements. */
  public NDArray noisy(NDArray x0, double[] sigma, NDArray eps) {
    long[] b = new long[x0.getShape().dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = sigma.length;
    return x0.add(eps.mul(manager.create(sigma, new ai.djl.ndarray.types.Shape(b)).toType(x0.getDataType(), false)));
  }

  /** Standard normals shaped like {@code like}, drawn from the step's generator (float32 on the host). */
  public NDArray normals(NDArray like) {
    float[] v = new float[Math.toIntExact(like.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return manager.create(v, like.getShape()).toType(like.getDataType(), false);
  }
}
