package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Pseudoinverse-guided diffusion, ΠGDM (Song, Vahdat, Mardani &amp; Kautz 2023, "Pseudoinverse-guided
 * diffusion models for inverse problems", eq. 5–8): for a linear measurement {@code y = A x0 + σ_y z},
 * {@code p(x0 | x̂)} is approximated by {@code N(x̂0, r² I)} with {@code x̂0 = D(x̂; σ)}, so
 * {@code p(y | x̂) ≈ N(A x̂0, r² A Aᵀ + σ_y² I)} and
 * <pre>  ∇_x̂ log p(y | x̂) ≈ ((y − A x̂0)ᵀ (r² A Aᵀ + σ_y² I)⁻¹ A ∂x̂0/∂x̂)ᵀ,</pre>
 * a vector–Jacobian product through the denoiser (one back-propagation, as DPS). As a decorator, by
 * Tweedie's formula for the conditional {@code p(x̂ | y)}:
 * <pre>  D'(x̂; σ) = D(x̂; σ) + w·σ²·(∂D/∂x̂)ᵀ Aᵀ (r² A Aᵀ + σ_y² I)⁻¹ (y − A D(x̂; σ)),</pre>
 * with the guidance weight w = 1 the approximation itself (Song et al. tune a weight per task).
 *
 * <p>The variance r²(σ): Song et al. (§3.1) take {@code r_t² = σ_t²/(1 + σ_t²)}, the posterior variance
 * of {@code x0 ~ N(0, I)} under {@code x̂ = x0 + σ ε}; in this library's σ frame with data of scale
 * σ_data it is {@code r² = σ_data² σ²/(σ_data² + σ²)} ({@link #posteriorVariance}, σ_data = 1 the
 * paper's), and any other {@code σ ↦ r²} can be given. For Gaussian data {@code N(μ, σ_data² I)}
 * this r² is exact, and so is the guidance.
 *
 * <p>The inverse: where {@code A Aᵀ} is diagonal ({@link MeasurementOperator#gramDiagonal}: masks, box
 * average pooling, the identity) it is taken in closed form, as a pseudo-inverse — a zero diagonal
 * value with {@code σ_y = 0} (an unobserved value of a mask) gives 0; otherwise (Gaussian blur,
 * matrices) by {@link ConjugateGradient} in float64, with a bound on the iterations and an error when it
 * is reached — ill-conditioned operators need {@code σ_y > 0}, which bounds the condition number by
 * {@code 1 + r²‖A‖²/σ_y²}.
 *
 * <p>As for DPS, y is one measurement shared by the batch.
 */
public final class PseudoinverseGuidance implements Denoiser {
  private final Denoiser model;
  private final MeasurementOperator operator;
  private final double[] measurement;
  private final Options options;
  private final ConjugateGradient solver;
  private long[] gramShape;
  private Optional<double[]> gram;

  /**
   * How ΠGDM is run.
   *
   * @param noiseStd σ_y ≥ 0, the measurement noise's standard deviation (data units)
   * @param variance σ ↦ r², finite and ≥ 0
   * @param scale the guidance weight w ≥ 0 (1: Song et al.'s approximation as is)
   * @param maxIterations the conjugate gradients' bound (when A Aᵀ is not diagonal)
   * @param tolerance their relative residual
   * @param gradientType the dtype of the back-propagation (FLOAT32 for networks, as in {@link PosteriorSampling})
   */
  public record Options(double noiseStd, DoubleUnaryOperator variance, double scale, int maxIterations,
      double tolerance, DataType gradientType) {
    public Options {
      if (!(noiseStd >= 0) || Double.isInfinite(noiseStd)) {
        throw new IllegalArgumentException("ΠGDM measurement noise σ_y must be finite and >= 0, got " + noiseStd);
      }
      Objects.requireNonNull(variance, "variance");
      if (!(scale >= 0) || Double.isInfinite(scale)) {
        throw new IllegalArgumentException("ΠGDM guidance weight must be finite and >= 0, got " + scale);
      }
      if (gradientType != DataType.FLOAT32 && gradientType != DataType.FLOAT64) {
        throw new IllegalArgumentException("ΠGDM gradient dtype must be float32 or float64, got " + gradientType);
      }
      new ConjugateGradient(maxIterations, tolerance);
    }

    /** Song et al.'s choice for data of scale σ_data: r² = σ_data² σ²/(σ_data² + σ²), w = 1, CG 1000 iterations to 1e-5. */
    public static Options of(double noiseStd, double sigmaData) {
      return new Options(noiseStd, posteriorVariance(sigmaData), 1, 1000, 1e-5, DataType.FLOAT32);
    }

    /** With another σ ↦ r². */
    public Options withVariance(DoubleUnaryOperator v) {
      return new Options(noiseStd, v, scale, maxIterations, tolerance, gradientType);
    }

    /** With guidance weight w. */
    public Options withScale(double w) {
      return new Options(noiseStd, variance, w, maxIterations, tolerance, gradientType);
    }

    /** With another conjugate-gradient bound and tolerance. */
    public Options withSolver(int iterations, double relativeTolerance) {
      return new Options(noiseStd, variance, scale, iterations, relativeTolerance, gradientType);
    }

    /** With another back-propagation dtype. */
    public Options withGradientType(DataType t) {
      return new Options(noiseStd, variance, scale, maxIterations, tolerance, t);
    }
  }

  /**
   * {@code r²(σ) = σ_data² σ²/(σ_data² + σ²)}: the variance of {@code x0 | x̂} for {@code x0 ~ N(μ,
   * σ_data² I)}; σ_data = 1 is Song et al.'s {@code σ_t²/(1 + σ_t²)}. σ = ∞ gives σ_data².
   */
  public static DoubleUnaryOperator posteriorVariance(double sigmaData) {
    if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
      throw new IllegalArgumentException("ΠGDM σ_data must be finite and > 0, got " + sigmaData);
    }
    double d2 = sigmaData * sigmaData;
    return s -> Double.isInfinite(s) ? d2 : d2 * s * s / (d2 + s * s);
  }

  /**
   * @param model a denoiser differentiable in x̂
   * @param operator the linear forward operator A
   * @param measurement y, one measurement (row-major, of A's measurement shape), finite
   * @param options σ_y, r², the weight and the solver
   */
  public PseudoinverseGuidance(Denoiser model, MeasurementOperator operator, double[] measurement, Options options) {
    this.model = Objects.requireNonNull(model, "model");
    this.operator = Objects.requireNonNull(operator, "operator");
    this.options = Objects.requireNonNull(options, "options");
    this.measurement = measurement.clone();
    for (int i = 0; i < measurement.length; i++) {
      if (!Double.isFinite(measurement[i])) {
        throw new IllegalArgumentException("measurement value " + measurement[i] + " at index " + i + " is not finite");
      }
    }
    this.solver = new ConjugateGradient(options.maxIterations(), options.tolerance());
  }

  /** ΠGDM with Song et al.'s r² for data of scale σ_data ({@link Options#of}). */
  public PseudoinverseGuidance(Denoiser model, MeasurementOperator operator, double[] measurement, double noiseStd,
      double sigmaData) {
    this(model, operator, measurement, Options.of(noiseStd, sigmaData));
  }

  /** The per-sample residual norms {@code ‖y − A(x)‖} of a batch of data-scale samples. */
  public double[] residual(NDArray x0) {
    try (org.diffusion4j.sampling.StepScope s = new org.diffusion4j.sampling.StepScope()) {
      NDArray r = residualArray(x0.toType(DataType.FLOAT64, true));
      long n = r.getShape().get(0);
      return r.reshape(n, -1).square().sum(new int[] {1}).sqrt().toDoubleArray();
    }
  }

  /** {@code y − A(x)} for a batch of data-scale samples, in x's dtype. */
  private NDArray residualArray(NDArray x) {
    return operator.residual(measurement, x);
  }

  private synchronized Optional<double[]> gram(long[] sampleShape) {
    if (!Arrays.equals(sampleShape, gramShape)) {
      gram = operator.gramDiagonal(sampleShape);
      gramShape = sampleShape.clone();
    }
    return gram;
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    int n = Math.toIntExact(x.getShape().get(0));
    Denoiser.checkSigma(sigma, n);
    double[] f = new double[n];
    double[] r2 = new double[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      f[i] = options.scale() * sigma[i] * sigma[i];
      if (f[i] != 0) {
        r2[i] = options.variance().applyAsDouble(sigma[i]);
        if (!(r2[i] >= 0) || Double.isInfinite(r2[i])) {
          throw new IllegalArgumentException("ΠGDM: r² at σ = " + sigma[i] + " is " + r2[i] + "; it must be finite and >= 0");
        }
      }
      any |= f[i] != 0;
    }
    if (!any) {
      return model.denoise(x, sigma, c);
    }
    long[] full = x.getShape().getShape();
    long[] sampleShape = Arrays.copyOfRange(full, 1, full.length);
    // A fresh leaf: DJL's toType(t, true) hands back the same tensor when x already is t, which would then
    // collect gradients across calls.
    NDArray xg = x.getDataType() == options.gradientType() ? x.duplicate() : x.toType(options.gradientType(), false);
    xg.setRequiresGradient(true);
    NDArray d;
    try (GradientCollector gc = x.getManager().getEngine().newGradientCollector()) {
      NDArray dg = model.denoise(xg, sigma, c);
      NDArray ad = operator.apply(dg);
      NDArray v;
      try (NDArray b = yMinus(ad)) {
        v = inverse(b, r2, sampleShape, sigma);
      }
      gc.backward(ad.mul(v.toType(ad.getDataType(), false)).sum());
      v.close();
      d = dg.stopGradient().toType(x.getDataType(), false);
    }
    NDArray g = xg.getGradient();
    if (g.getDataType() != options.gradientType()) {
      // DJL hands out float32 zeros when back-propagation never reached the array.
      throw new IllegalStateException("ΠGDM: the denoiser is not differentiable in x̂ in " + options.gradientType()
          + " (no gradient reached the state)");
    }
    g = g.toType(x.getDataType(), true);
    xg.close();
    return d.add(g.toType(d.getDataType(), false).mul(Rows.column(d, f)));
  }

  /** {@code y − A x̂0} in float64, from the (recorded) measurement prediction, detached. */
  private NDArray yMinus(NDArray ad) {
    NDArray a = ad.stopGradient().toType(DataType.FLOAT64, false);
    long[] s = a.getShape().getShape().clone();
    long per = a.size() / Math.max(1, s[0]);
    if (per != measurement.length) {
      throw new IllegalArgumentException(operator.describe() + " gives " + per + " values per sample but the "
          + "measurement has " + measurement.length);
    }
    s[0] = 1;
    return a.getManager().create(measurement, new Shape(s)).sub(a);
  }

  /** {@code (r_i² A Aᵀ + σ_y² I)⁻¹ b_i} per sample, float64. */
  private NDArray inverse(NDArray b, double[] r2, long[] sampleShape, double[] sigma) {
    int n = r2.length;
    double sy2 = options.noiseStd() * options.noiseStd();
    Optional<double[]> diag = gram(sampleShape);
    if (diag.isPresent()) {
      double[] g = diag.get();
      int m = g.length;
      if (b.size() != (long) n * m) {
        throw new IllegalArgumentException(operator.describe() + ": A Aᵀ has " + m + " diagonal values but the "
            + "measurements have " + b.size() / n);
      }
      double[] inv = new double[n * m];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
          double den = r2[i] * g[j] + sy2;
          // The pseudo-inverse: an unobserved value (0 on the diagonal, no noise) gets 0.
          inv[i * m + j] = den > 0 ? 1 / den : 0;
        }
      }
      try (NDArray w = b.getManager().create(inv, b.getShape())) {
        return b.mul(w);
      }
    }
    // Samples whose system is 0 (r² = 0 and σ_y = 0) get v = 0, as in the diagonal case.
    double[] keep = new double[n];
    for (int i = 0; i < n; i++) {
      keep[i] = r2[i] > 0 || sy2 > 0 ? 1 : 0;
    }
    try (NDArray rhs = b.mul(Rows.column(b, keep))) {
      try {
        return solver.solve(p -> {
          NDArray gp = operator.apply(operator.adjoint(p, sampleShape));
          return gp.mul(Rows.column(p, r2)).add(org.diffusion4j.tensor.Scalars.mul(p, sy2));
        }, rhs).v();
      } catch (IllegalStateException e) {
        throw new IllegalStateException(String.format(Locale.ROOT, "ΠGDM (%s, σ_y = %s) at σ = %s: %s; assume "
            + "measurement noise σ_y > 0 (it bounds the condition number of r²AAᵀ + σ_y²I by 1 + r²‖A‖²/σ_y²) or "
            + "raise the iteration bound (Options.withSolver)", operator.describe(), options.noiseStd(),
            Arrays.toString(sigma), e.getMessage()), e);
      }
    }
  }

  @Override
  public String toString() {
    return "ΠGDM (" + operator.describe() + ", σ_y = " + options.noiseStd() + ", w = " + options.scale() + ")";
  }
}
