package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;

/**
 * A differentiable reward {@code r(x0)} of clean samples in data scale — a Bradley–Terry reward network,
 * a classifier's log-probability of a target class, any scorer written in NDArray operations — for
 * {@link RewardGuidance}.
 */
@FunctionalInterface
public interface Reward {

  /**
   * The reward of each sample, {@code [n]}, built from differentiable NDArray operations on {@code x0}.
   *
   * @param x0 samples {@code [n, …]} in data scale
   */
  NDArray value(NDArray x0);
}
