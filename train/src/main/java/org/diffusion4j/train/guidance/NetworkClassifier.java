package org.diffusion4j.train.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.guidance.NoisyClassifier;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A trained noise-conditional classifier network as a {@link NoisyClassifier}: logits
 * {@code F(c_in(σ) x̂; c_noise(σ))} with the input scalings of a preconditioning (EDM's
 * {@code c_in = 1/√(σ² + σ_d²)}, {@code c_noise = ¼ ln σ}), {@code log p(y | x̂, σ) = log softmax}. Input
 * gradients for classifier guidance are taken by back-propagation to x̂ in a DJL
 * {@link GradientCollector} (a float32 copy of x̂ requires a gradient; the parameters are read in
 * inference mode) and returned in x̂'s dtype.
 */
public final class NetworkClassifier implements NoisyClassifier {
  private final Block network;
  private final Preconditioning input;
  private final int classes;

  /**
   * @param network F taking {@code NDList(x, cNoise)}, returning logits {@code [n, K]}
   * @param input the preconditioning whose c_in and c_noise feed F
   * @param classes K
   */
  public NetworkClassifier(Block network, Preconditioning input, int classes) {
    this.network = Objects.requireNonNull(network, "network");
    this.input = Objects.requireNonNull(input, "input");
    if (classes < 2) {
      throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
    }
    this.classes = classes;
  }

  @Override
  public int classes() {
    return classes;
  }

  /** The logits {@code [n, K]} (differentiable in F's parameters with a training store, and in x̂). */
  public static NDArray logits(Block network, Preconditioning input, ParameterStore ps, boolean training, NDArray xHat,
      double[] sigma) {
    return NetworkDenoiser.precondition(input, xHat, sigma, Conditioning.NONE, (in, cNoise, labels) ->
        network.forward(ps, new NDList(in.toType(DataType.FLOAT32, false), cNoise.toType(DataType.FLOAT32, false)),
            training).singletonOrThrow()).f();
  }

  /** {@code log p(y_i | ·)} of logits {@code [n, K]}, as an array {@code [n]}. */
  public static NDArray logProbOf(NDArray logits, long[] labels) {
    NDArray logp = logits.logSoftmax(1);
    NDArray oneHot = logits.getManager().create(labels).oneHot(Math.toIntExact(logits.getShape().get(1)))
        .toType(logp.getDataType(), false);
    return logp.mul(oneHot).sum(new int[] {1});
  }

  @Override
  public double[] logProb(NDArray x, double[] sigma, long[] labels) {
    NoisyClassifier.checkLabels(labels, classes, x.getShape().get(0));
    NDArray l = logits(network, input, new ParameterStore(x.getManager(), false), false, x, sigma);
    return logProbOf(l, labels).toType(DataType.FLOAT64, false).toDoubleArray();
  }

  @Override
  public NDArray logProbGradient(NDArray x, double[] sigma, long[] labels) {
    NoisyClassifier.checkLabels(labels, classes, x.getShape().get(0));
    // The network runs in float32, and DJL's dtype casts are not differentiable on PyTorch: the
    // gradient pass starts from a float32 copy of x̂.
    NDArray xg = x.toType(DataType.FLOAT32, true);
    xg.setRequiresGradient(true);
    try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
      NDArray l = logits(network, input, new ParameterStore(x.getManager(), false), false, xg, sigma);
      gc.backward(logProbOf(l, labels).sum());
    }
    NDArray g = xg.getGradient().toType(x.getDataType(), true);
    xg.close();
    return g;
  }
}
