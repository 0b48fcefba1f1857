package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;

/**
 * What a sampler run produced.
 *
 * @param x the final state (process coordinates at the last grid point)
 * @param nfe number of denoiser evaluations per sample
 * @param depth number of denoiser calls made one after another (the sequential depth); equal to
 *     {@code nfe} unless the sampler evaluates several grid points in one batched call
 */
public record SampleResult(NDArray x, int nfe, int depth) {
  /** A sequential run: every evaluation is its own call. */
  public SampleResult(NDArray x, int nfe) {
    this(x, nfe, nfe);
  }
}
