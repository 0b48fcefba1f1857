package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.SamplerParams;

/** Plumbing shared by the k-diffusion / EDM stochastic samplers: noise injection and parameter checks. */
final class Stochastic {
  private Stochastic() {}

  /** η, churn, σ-thresholds: any finite number ≥ 0 (the ancestral split clamps σ_up ≤ σ_next). */
  static final ParamRange ETA = ParamRange.atLeast(0);

  /**
   * S_noise: [0, 10]. EDM uses 1.000–1.007 (Karras et al. 2022, Table 5); far above 10 the samples are
   * noise, and near 1e38 the noise overflows float32.
   */
  static final ParamRange S_NOISE = ParamRange.closed(0, 10);

  /** Checks S_noise against {@link #S_NOISE}. */
  static double requireSNoise(String sampler, double v) {
    if (!S_NOISE.contains(v)) {
      throw new IllegalArgumentException(
          "parameter s-noise of sampler '" + sampler + "' must be " + S_NOISE + ", got " + v);
    }
    return v;
  }

  /** {@code x + scale·ε}, ε ~ N(0, I) the next draw of {@code noise} in x's shape and dtype (a new array). */
  static NDArray addNoise(NDArray x, NoiseSource noise, double scale) {
    NDArray eps = noise.randn(x.getManager(), x.getShape(), x.getDataType());
    return x.add(eps.mul(scale));
  }

  /** A parameter that must be a finite number ≥ 0. */
  static double nonNegative(SamplerParams p, String sampler, String name) {
    double v = p.getDouble(name);
    return requireNonNegative(sampler, name, v);
  }

  /** Checks that {@code v} is a finite number ≥ 0 and returns it. */
  static double requireNonNegative(String sampler, String name, double v) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(
          "parameter " + name + " of sampler '" + sampler + "' must be a finite number >= 0, got " + v);
    }
    return v;
  }
}
