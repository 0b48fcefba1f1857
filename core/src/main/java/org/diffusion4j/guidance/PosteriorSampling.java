package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Diffusion posterior sampling, DPS (Chung et al. 2023, "Diffusion posterior sampling for general noisy
 * inverse problems", Algorithm 1 and eq. 16): the intractable likelihood {@code p(y | x̂_σ)} is replaced
 * by {@code p(y | x0 = D(x̂; σ))}, and the guided score is
 * {@code ∇log p_σ(x̂) − ζ ∇_x̂ ‖y − A(D(x̂; σ))‖} — the gradient of the measurement residual's norm,
 * back-propagated through the denoiser (so the model must be differentiable in x̂ inside a
 * {@link GradientCollector}, as {@code NetworkDenoiser} is). Chung et al.'s step {@code ζ_i = ζ'/‖y −
 * A(x̂0)‖} on the squared residual is this norm form. As a decorator, by Tweedie's formula:
 * <pre>  D'(x̂; σ) = D(x̂; σ) − ζ·σ²·∇_x̂ ‖y − A(D(x̂; σ))‖.</pre>
 * Since {@code σ² ∂D/∂x̂ = Cov[x0 | x̂]}, the correction stays bounded at large σ.
 *
 * <p>The measurement y is one measurement shared by the batch (restoring one signal with several
 * seeds). The correction to the x0-prediction is {@code ζ·Cov[x0 | x̂]·J_Aᵀ r/‖r‖}: a step of ζ times the
 * posterior variance along the residual r; for data of unit scale ζ ≈ 10–30 brings the residual down
 * to the measurement's noise in a few dozen steps.
 */
public final class PosteriorSampling implements Denoiser {
  private final Denoiser model;
  private final MeasurementOperator operator;
  private final double[] measurement;
  private final double scale;
  private final DataType gradientType;

  /**
   * @param model a denoiser differentiable in x̂
   * @param operator the forward operator A
   * @param measurement y, one measurement (row-major, of A's measurement shape)
   * @param scale ζ ≥ 0, finite
   */
  public PosteriorSampling(Denoiser model, MeasurementOperator operator, double[] measurement, double scale) {
    this(model, operator, measurement, scale, DataType.FLOAT32);
  }

  /**
   * @param model a denoiser differentiable in x̂
   * @param operator the forward operator A
   * @param measurement y, one measurement (row-major, of A's measurement shape)
   * @param scale ζ ≥ 0, finite
   * @param gradientType the dtype of the back-propagation pass: FLOAT32 (the default) for networks,
   *     which compute in float32 — DJL's dtype casts are not differentiable on PyTorch, so from a float64
   *     state only the c_skip·x̂ part of a network denoiser would be differentiated, silently; FLOAT64
   *     for models written in float64 ops throughout
   */
  public PosteriorSampling(Denoiser model, MeasurementOperator operator, double[] measurement, double scale,
      DataType gradientType) {
    if (gradientType != DataType.FLOAT32 && gradientType != DataType.FLOAT64) {
      throw new IllegalArgumentException("DPS gradient dtype must be float32 or float64, got " + gradientType);
    }
    this.gradientType = gradientType;
    this.model = Objects.requireNonNull(model, "model");
    this.operator = Objects.requireNonNull(operator, "operator");
    this.measurement = measurement.clone();
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("DPS step ζ must be finite and >= 0, got " + scale);
    }
    for (int i = 0; i < measurement.length; i++) {
      if (!Double.isFinite(measurement[i])) {
        throw new IllegalArgumentException("measurement value " + measurement[i] + " at index " + i + " is not finite");
      }
    }
    this.scale = scale;
  }

  /** The per-sample residual norms {@code ‖y − A(x)‖} of a batch of data-scale samples. */
  public double[] residual(NDArray x0) {
    try (NDArray r = residualArray(x0)) {
      return norms(r).toType(DataType.FLOAT64, false).toDoubleArray();
    }
  }

  private NDArray residualArray(NDArray x0) {
    return operator.residual(measurement, x0);
  }

  private static NDArray norms(NDArray r) {
    long n = r.getShape().get(0);
    return r.reshape(n, -1).square().sum(new int[] {1}).add(1e-20).sqrt();
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    int n = Math.toIntExact(x.getShape().get(0));
    Denoiser.checkSigma(sigma, n);
    double[] f = new double[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      f[i] = -scale * sigma[i] * sigma[i];
      any |= f[i] != 0;
    }
    if (!any) {
      return model.denoise(x, sigma, c);
    }
    // A fresh leaf: DJL's toType(t, true) hands back the same tensor when x already is t, which would then
    // collect gradients across calls.
    NDArray xg = x.getDataType() == gradientType ? x.duplicate() : x.toType(gradientType, false);
    xg.setRequiresGradient(true);
    NDArray d;
    try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
      NDArray dg = model.denoise(xg, sigma, c);
      gc.backward(norms(residualArray(dg)).sum());
      d = dg.stopGradient().toType(x.getDataType(), false);
    }
    NDArray g = xg.getGradient();
    if (g.getDataType() != gradientType) {
      // DJL hands out float32 zeros when back-propagation never reached the array.
      throw new IllegalStateException("DPS: the denoiser is not differentiable in x̂ in " + gradientType
          + " (no gradient reached the state)");
    }
    g = g.toType(x.getDataType(), true);
    xg.close();
    return d.add(g.toType(d.getDataType(), false).mul(Rows.column(d, f)));
  }

  @Override
  public String toString() {
    return "DPS (" + operator.describe() + ", ζ = " + scale + ")";
  }
}
