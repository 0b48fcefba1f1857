package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Fresh standard-normal noise for stochastic samplers and initial states. Implementations must make
 * row k depend only on sample k's own stream (EDM's per-seed generators), whatever the batch size.
 */
public interface NoiseSource {
  /**
   * Draws {@code N(0, I)} of {@code shape} ({@code shape[0]} = batch), the next values of each
   * sample's stream.
   */
  NDArray randn(NDManager manager, Shape shape, DataType dtype);

  /** A source that refuses: for deterministic runs. */
  NoiseSource NONE = (m, s, d) -> {
    throw new IllegalStateException("this run has no noise source, but the sampler asked for noise");
  };
}
