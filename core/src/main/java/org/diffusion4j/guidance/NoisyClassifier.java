package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;

/**
 * A noise-conditional classifier {@code p(y | x̂, σ)} of the state {@code x̂ = x0 + σ ε} — the
 * time-conditioned classifier of classifier guidance (Song et al. 2021, §5 and App. I; Dhariwal &amp;
 * Nichol 2021, §4), trained on noisy data of the same process, since a classifier of clean data says
 * nothing useful about noisy states.
 */
public interface NoisyClassifier {

  /** Number of classes K; labels are 0 … K−1. */
  int classes();

  /**
   * {@code log p(y_i | x̂_i, σ_i)} per sample.
   *
   * @param x states {@code [n, …]}
   * @param sigma noise level per sample
   * @param labels class per sample, each in 0 … K−1
   */
  double[] logProb(NDArray x, double[] sigma, long[] labels);

  /**
   * The input gradient {@code ∇_x̂ log p(y_i | x̂_i, σ_i)} per sample, shaped and typed like x.
   *
   * @param x states {@code [n, …]}
   * @param sigma noise level per sample
   * @param labels class per sample, each in 0 … K−1
   */
  NDArray logProbGradient(NDArray x, double[] sigma, long[] labels);

  /** Rejects labels outside 0 … K−1 with a message naming the first bad one. */
  static void checkLabels(long[] labels, int classes, long n) {
    if (labels == null || labels.length != n) {
      throw new IllegalArgumentException("the classifier needs one class label per sample (" + n + "), got "
          + (labels == null ? "none" : labels.length));
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException("class " + labels[i] + " of sample " + i + " is not a class of the "
            + "classifier; accepted 0.." + (classes - 1));
      }
    }
  }
}
