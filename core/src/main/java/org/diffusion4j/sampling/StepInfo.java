package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;

/**
 * One finished sampler step, as a listener sees it. Arrays are only valid during the callback; copy
 * what you keep.
 *
 * @param step index of the interval just taken, 0-based
 * @param steps number of intervals of the grid
 * @param sigma σ at the start of the step
 * @param sigmaNext σ at its end
 * @param scaleNext s(t) at its end (process coordinates are {@code scaleNext·xHat})
 * @param xHat the state after the step in scaled coordinates x̂ = x/s
 * @param denoised the last x0-estimate of the step (may be null)
 */
public record StepInfo(int step, int steps, double sigma, double sigmaNext, double scaleNext,
    NDArray xHat, NDArray denoised) {}
