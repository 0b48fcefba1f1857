package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Reward guidance: classifier guidance ({@link ClassifierGuidance}) with {@code log p(y | x̂)} replaced by
 * a reward, {@code D'(x̂; σ) = D(x̂; σ) + w·σ²·∇_x̂ r(D(x̂; σ))}. The tilted density
 * {@code p(x) exp(w·r(x))} is the optimum of the KL-regularised reward objective
 * {@code E[r] − β KL(p ‖ p_ref)} with {@code w = 1/β} (Rafailov et al. 2023, eq. 4; Ouyang et al. 2022), so
 * guidance with scale 1/β approximates the fine-tuned model of the same β without training. Because a
 * reward model is trained on clean samples, it is evaluated at the x0-prediction and differentiated
 * through the denoiser (Bansal et al. 2023, "Universal guidance", forward guidance; Chung et al. 2023's
 * DPS does the same with a measurement likelihood), which needs a model differentiable in x̂ (a
 * {@code NetworkDenoiser}); the gradient pass runs in float32.
 */
public final class RewardGuidance implements Denoiser {
  private final Denoiser model;
  private final Reward reward;
  private final double scale;

  /**
   * @param model a denoiser differentiable in x̂
   * @param reward r(x0), differentiable
   * @param scale w, finite (1/β of the KL-regularised objective)
   */
  public RewardGuidance(Denoiser model, Reward reward, double scale) {
    this.model = Objects.requireNonNull(model, "model");
    this.reward = Objects.requireNonNull(reward, "reward");
    if (!Double.isFinite(scale)) {
      throw new IllegalArgumentException("reward guidance scale must be finite, got " + scale);
    }
    this.scale = scale;
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    int n = Math.toIntExact(x.getShape().get(0));
    Denoiser.checkSigma(sigma, n);
    double[] f = new double[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      f[i] = scale * sigma[i] * sigma[i];
      any |= f[i] != 0;
    }
    if (!any) {
      return model.denoise(x, sigma, c);
    }
    // A fresh leaf: DJL's toType(t, true) hands back the same tensor when x already is t, which would then
    // collect gradients across calls.
    NDArray xg = x.getDataType() == DataType.FLOAT32 ? x.duplicate() : x.toType(DataType.FLOAT32, false);
    xg.setRequiresGradient(true);
    NDArray d;
    try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
      NDArray dg = model.denoise(xg, sigma, c);
      NDArray r = reward.value(dg);
      if (r.size() != n) {
        throw new IllegalArgumentException("the reward gave " + r.size() + " values for " + n + " samples");
      }
      gc.backward(r.sum());
      d = dg.stopGradient().toType(x.getDataType(), false);
    }
    NDArray g = xg.getGradient();
    if (g.getDataType() != DataType.FLOAT32) {
      throw new IllegalStateException("reward guidance: the denoiser is not differentiable in x̂ in float32");
    }
    g = g.toType(x.getDataType(), true);
    xg.close();
    return d.add(g.mul(Rows.column(d, f)));
  }

  @Override
  public String toString() {
    return "reward guidance w = " + scale;
  }
}
