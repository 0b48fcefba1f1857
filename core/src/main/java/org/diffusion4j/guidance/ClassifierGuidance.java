package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Classifier guidance (Song et al. 2021, eq. 14; Dhariwal &amp; Nichol 2021, §4.1): the score of the
 * tilted density {@code p_σ(x̂) p(y|x̂, σ)^w} is {@code ∇log p_σ(x̂) + w ∇_x̂ log p(y|x̂, σ)}, which by
 * Tweedie's formula {@code D = x̂ + σ² ∇log p_σ} is the denoiser
 * <pre>  D_w(x̂; σ, y) = D(x̂; σ) + w·σ²·∇_x̂ log p(y | x̂, σ).</pre>
 * The gradient is taken in the frame's scaled state x̂ (not in the process state x = s(t)·x̂, whose
 * gradient is 1/s times larger), so the correction is the same for every process. In ε-form this is
 * Dhariwal &amp; Nichol's {@code ε̂ − w σ ∇ log p} (their {@code √(1 − ᾱ)} is σ·s here).
 *
 * <p>{@code w = 1} with the exact classifier of the data gives the exact conditional denoiser
 * {@code E[x0 | x̂, y]}; rows with the null label get the plain model. The labels are taken from the
 * conditioning and, by default, not passed to the model (an unconditional model).
 */
public final class ClassifierGuidance implements Denoiser {
  private final Denoiser model;
  private final NoisyClassifier classifier;
  private final double scale;
  private final boolean passLabels;

  /** Guidance of an unconditional model (the labels go to the classifier only). */
  public ClassifierGuidance(Denoiser model, NoisyClassifier classifier, double scale) {
    this(model, classifier, scale, false);
  }

  /**
   * @param model the model
   * @param classifier a noise-conditional classifier of the same data
   * @param scale w, finite
   * @param passLabels also give the labels to the model (a class-conditional model, as Dhariwal &amp;
   *     Nichol's conditional ADM-G)
   */
  public ClassifierGuidance(Denoiser model, NoisyClassifier classifier, double scale, boolean passLabels) {
    this.model = Objects.requireNonNull(model, "model");
    this.classifier = Objects.requireNonNull(classifier, "classifier");
    if (!Double.isFinite(scale)) {
      throw new IllegalArgumentException("classifier scale must be finite, got " + scale);
    }
    this.scale = scale;
    this.passLabels = passLabels;
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    int n = Math.toIntExact(x.getShape().get(0));
    Denoiser.checkSigma(sigma, n);
    long[] labels = c.labels();
    if (labels == null) {
      throw new IllegalArgumentException("classifier guidance needs class labels in the conditioning, got " + c);
    }
    c.requireSize(n);
    NDArray d = model.denoise(x, sigma, passLabels ? c : c.withLabels(null));
    if (scale == 0) {
      return d;
    }
    long[] y = labels.clone();
    double[] f = new double[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      if (labels[i] == Conditioning.NULL_LABEL) {
        y[i] = 0;
      } else {
        f[i] = scale * sigma[i] * sigma[i];
        any |= f[i] != 0;
      }
    }
    if (!any) {
      return d;
    }
    NDArray g = classifier.logProbGradient(x, sigma, y);
    return d.add(g.toType(d.getDataType(), false).mul(Rows.column(d, f)));
  }

  @Override
  public String toString() {
    return "classifier guidance w = " + scale;
  }
}
