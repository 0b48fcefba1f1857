package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A learned log-weight w_φ(c) of a per-example loss, the adaptive weighting of Karras et al. 2024
 * ("Analyzing and Improving the Training Dynamics of Diffusion Models", eq. 13) used by continuous-time
 * consistency models (Lu &amp; Song 2024, eq. 9): the loss {@code e^{w_φ} L − w_φ} is minimised over φ at
 * {@code w_φ = −ln E[L | c]}, so every noise level contributes a loss of about one. Forward takes
 * {@code NDList(c)} with c {@code [n]} (the network's noise input) and returns w {@code [n]}: a sinusoidal
 * embedding of c ({@code dim} features) and one linear layer, initialised near zero.
 */
public final class AdaptiveWeight extends FixedBlock {
  private final int dim;
  private final Dense linear;

  /** @param dim embedding width, even and ≥ 4 (64) */
  public AdaptiveWeight(int dim) {
    if (dim < 4 || dim % 2 != 0) {
      throw new IllegalArgumentException("adaptive weight: the embedding width must be even and >= 4, got " + dim);
    }
    this.dim = dim;
    this.linear = addChildBlock("linear", new Dense(dim, 1, 0.1));
  }

  /** w_φ(c), shape {@code [n]}. */
  public NDArray apply(ParameterStore ps, NDArray c, boolean training) {
    return forward(ps, new NDList(c), training).singletonOrThrow();
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray c = inputs.get(0);
    long n = c.getShape().get(0);
    NDArray e = NoiseEmbedding.sinusoidal(c.reshape(n), dim);
    return new NDList(linear.apply(ps, e, training).reshape(n));
  }
}
