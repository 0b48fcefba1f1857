package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Arrays;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Classifier-free guidance (Ho &amp; Salimans 2022, eq. 6): a model trained with its labels dropped to
 * the null class ∅ is evaluated with and without the label and extrapolated,
 * {@code D_w(x̂; σ, c) = D(x̂; σ, ∅) + w·(D(x̂; σ, c) − D(x̂; σ, ∅))}. Since the denoiser is affine in the
 * score (Tweedie), this is the score {@code w ∇log p_σ(x̂|c) + (1 − w) ∇log p_σ(x̂)}, the gradient of the
 * log of the sharpened density {@code p(x̂) p(c|x̂)^w}, and the same combination of ε-, v- or
 * x0-predictions.
 *
 * <p>Convention: {@code w = 1} is the plain conditional model, {@code w = 0} the unconditional one, and
 * {@code w > 1} strengthens the condition — diffusers' {@code guidance_scale}. Papers that write
 * {@code (1 + ω) D_c − ω D_∅} (Ho &amp; Salimans' own ω; Saharia et al. 2022) mean {@code w = 1 + ω}:
 * use {@link #fromExtrapolation}.
 *
 * <p>Both halves run in ONE forward: the batch is doubled, the first half with the batch's labels and
 * the second with {@link Conditioning#NULL_LABEL}, so a network sees a batch of 2n once per call, as
 * EDM's and diffusers' pipelines do. Options: a guidance interval (Kynkäänniemi et al. 2024, "Applying
 * guidance in a limited interval"): rows whose σ lies outside [σ_lo, σ_hi] get the plain conditional
 * model; and guidance rescaling (Lin et al. 2024, "Common diffusion noise schedules and sample steps are
 * flawed", §3.4): {@code D ← φ·D_w·std(D_c)/std(D_w) + (1 − φ)·D_w} per sample.
 */
public final class ClassifierFreeGuidance implements Denoiser {
  private final Denoiser model;
  private final double scale;
  private final double sigmaLo;
  private final double sigmaHi;
  private final double rescale;

  /**
   * @param model a class-conditional model that knows the null label
   * @param scale w, finite (1: conditional, 0: unconditional)
   */
  public ClassifierFreeGuidance(Denoiser model, double scale) {
    this(model, scale, 0, Double.POSITIVE_INFINITY, 0);
  }

  /**
   * @param model a class-conditional model that knows the null label
   * @param scale w, finite
   * @param sigmaLo guidance applies for σ ≥ σ_lo (0: always)
   * @param sigmaHi and σ ≤ σ_hi (∞: always)
   * @param rescale φ ∈ [0, 1] of guidance rescaling (0: none)
   */
  public ClassifierFreeGuidance(Denoiser model, double scale, double sigmaLo, double sigmaHi, double rescale) {
    this.model = Objects.requireNonNull(model, "model");
    if (!Double.isFinite(scale)) {
      throw new IllegalArgumentException("guidance scale must be finite, got " + scale);
    }
    if (!(sigmaLo >= 0) || !(sigmaHi >= sigmaLo) || Double.isNaN(sigmaHi)) {
      throw new IllegalArgumentException("guidance interval [" + sigmaLo + ", " + sigmaHi
          + "] must satisfy 0 <= σ_lo <= σ_hi");
    }
    if (!(rescale >= 0 && rescale <= 1)) {
      throw new IllegalArgumentException("guidance rescale φ must be in [0, 1], got " + rescale);
    }
    this.scale = scale;
    this.sigmaLo = sigmaLo;
    this.sigmaHi = sigmaHi;
    this.rescale = rescale;
  }

  /** The scale w of this class for the extrapolation form {@code (1 + ω) D_c − ω D_∅}: {@code w = 1 + ω}. */
  public static double fromExtrapolation(double omega) {
    return 1 + omega;
  }

  /** The guidance scale w. */
  public double scale() {
    return scale;
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    int n = Math.toIntExact(x.getShape().get(0));
    Denoiser.checkSigma(sigma, n);
    long[] labels = c.labels();
    if (labels == null) {
      throw new IllegalArgumentException("classifier-free guidance needs class labels in the conditioning, got " + c);
    }
    c.requireSize(n);
    boolean[] guided = new boolean[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      guided[i] = sigma[i] >= sigmaLo && sigma[i] <= sigmaHi && labels[i] != Conditioning.NULL_LABEL;
      any |= guided[i];
    }
    if (!any || scale == 1) {
      return model.denoise(x, sigma, c);
    }
    long[] none = new long[n];
    Arrays.fill(none, Conditioning.NULL_LABEL);
    if (scale == 0) {
      // Unconditional where guided, conditional elsewhere: still one forward.
      long[] mixed = labels.clone();
      for (int i = 0; i < n; i++) {
        if (guided[i]) {
          mixed[i] = Conditioning.NULL_LABEL;
        }
      }
      return model.denoise(x, sigma, c.withLabels(mixed));
    }
    NDArray both = model.denoise(x.concat(x, 0), Rows.join(sigma, sigma),
        Conditioning.concat(c, c.withLabels(none)));
    NDList halves = both.split(new long[] {n}, 0);
    NDArray dc = halves.get(0);
    NDArray du = halves.get(1);
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = guided[i] ? scale : 1;
    }
    NDArray out = du.add(dc.sub(du).mul(Rows.column(x, w)));
    if (rescale > 0) {
      NDArray sc = std(dc);
      NDArray sw = std(out);
      NDArray ratio = sc.div(Scalars.maximum(sw, 1e-12));
      // Rows without guidance have D_w = D_c and ratio 1, so rescaling leaves them alone.
      out = out.mul(Scalars.mul(ratio, rescale).add(1 - rescale));
    }
    return out;
  }

  /** Per-sample std over every value of the sample, shaped {@code [n, 1, …]}. */
  private static NDArray std(NDArray a) {
    long n = a.getShape().get(0);
    NDArray flat = a.reshape(n, -1);
    NDArray mean = flat.mean(new int[] {1}, true);
    NDArray var = flat.sub(mean).square().mean(new int[] {1}, true);
    long[] b = new long[a.getShape().dimension()];
    Arrays.fill(b, 1);
    b[0] = n;
    return var.sqrt().reshape(b);
  }

  @Override
  public String toString() {
    return "classifier-free guidance w = " + scale;
  }
}
