package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Inpainting by replacement (Song et al. 2021, App. I.2; Lugmayr et al. 2022, "RePaint", eq. 8 without
 * resampling): where the mask is 1 the x0-prediction is the known value,
 * {@code D'(x̂; σ) = m ⊙ y + (1 − m) ⊙ D(x̂; σ)}, with m and y from the batch's
 * {@link Conditioning.Mask} (y in data scale). The sampler's state in the known region then follows
 * {@code y + σ ε} — the known pixels noised to the current level with the run's own noise, which is the
 * replacement of the state by a draw of {@code q(x̂_σ | y)} — so the model always sees known pixels at
 * the right noise level next to the generated ones, and a grid ending at σ = 0 returns exactly y there.
 *
 * <p>Replacement is not exact conditional sampling: the generated part is never corrected for the
 * noisy known values it was steered by at high σ, so it can disagree with the known part (the reason
 * for RePaint's resampling, not done here); DPS ({@link PosteriorSampling} with
 * {@link MeasurementOperator#mask}) is the gradient-based alternative.
 *
 * <p>Tolerance: on a grid that ends at σ = 0 the known values of the sample are y up to the round-off of
 * the integration dtype (≤ 1e-12 relative in float64) for every sampler whose last step returns
 * the x0-prediction (all the library's samplers do).
 */
public final class Inpainting implements Denoiser {
  private final Denoiser model;

  /** Replacement inpainting around {@code model}; the mask comes with each batch's conditioning. */
  public Inpainting(Denoiser model) {
    this.model = Objects.requireNonNull(model, "model");
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    Conditioning.Mask mask = c.mask();
    if (mask == null) {
      throw new IllegalArgumentException("inpainting needs a mask with known values in the conditioning, got " + c);
    }
    int n = Math.toIntExact(x.getShape().get(0));
    c.requireSize(n);
    int per = Rows.perSample(x);
    if (mask.perSample() != per) {
      throw new IllegalArgumentException("the inpainting mask has " + mask.perSample() + " values per sample but the "
          + "samples have " + per + " (shape " + x.getShape() + ")");
    }
    // The model sees no mask: it is not trained with one.
    NDArray d = model.denoise(x, sigma, c.withMask(null));
    NDArray m = x.getManager().create(mask.mask(), x.getShape()).toType(d.getDataType(), false);
    NDArray y = x.getManager().create(mask.known(), x.getShape()).toType(d.getDataType(), false);
    // m·y + (1 − m)·D, so that m = 1 gives y exactly.
    return y.mul(m).add(d.mul(m.neg().add(1)));
  }

  @Override
  public String toString() {
    return "inpainting by replacement";
  }
}
