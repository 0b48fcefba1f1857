package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;

/**
 * What a sampler run produced.
 *
 * @param x the final state (process coordinates at the last grid point)
 * @param nfe number of denoiser evaluations)
 */
public record SampleResult(NDArray x, int nfe) {}
