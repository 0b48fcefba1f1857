package org.diffusion4j.denoiser;

import ai.djl.ndarray.NDArray;
import java.util.Locale;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.tensor.Scalars;

/**
 * What a network predicts, with the conversion of its output to the x0-estimate and back: ε (Ho
 * et al. 2020), x0, v (Salimans &amp; Ho 2022: {@code v = α ε − σ x0}), score, and velocity
 * ({@code dx/dt = α' x0 + σ' ε}, flow matching). All conversions are in the process's own
 * coordinates {@code x_t = α x0 + σ ε} at time t; the pure scalar forms live in {@link Conversions}.
 */
public enum Parameterization {
  /** ε-prediction: {@code x0 = (x − σ ε)/α}. */
  EPS,
  /** Clean-data prediction. */
  X0,
  /** v-prediction {@code v = α ε − σ x0} (for α² + σ² = 1: {@code x0 = α x − σ v}). */
  V,
  /** Score prediction: {@code x0 = (x + σ² s)/α} (Tweedie). */
  SCORE,
  /** Velocity prediction {@code v = α' x0 + σ' ε}: {@code x0 = (σ' x − σ v)/(α σ' − α' σ)}. */
  VELOCITY;

  /** Parses {@code eps|x0|v|score|velocity} (case-insensitive). */
  public static Parameterization parse(String name) {
    for (Parameterization p : values()) {
      if (p.name().equalsIgnoreCase(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown parameterisation '" + name + "'; accepted: eps, x0, v, score, velocity");
  }

  /** The x0-estimate from this head's output {@code out} at state {@code x}, time t. */
  public NDArray toX0(NDArray out, NDArray x, NoiseProcess p, double t) {
    double[] c = Conversions.x0Coefficients(this, p.alpha(t), p.sigmaAbs(t), dAlpha(p, t), dSigmaAbs(p, t));
    return Scalars.mul(x, c[0]).add(Scalars.mul(out, c[1]));
  }

  /** This head's target given the x0-estimate {@code x0} at state {@code x}, time t. */
  public NDArray fromX0(NDArray x0, NDArray x, NoiseProcess p, double t) {
    double[] c = Conversions.fromX0Coefficients(this, p.alpha(t), p.sigmaAbs(t), dAlpha(p, t), dSigmaAbs(p, t));
    return Scalars.mul(x, c[0]).add(Scalars.mul(x0, c[1]));
  }

  static double dAlpha(NoiseProcess p, double t) {
    return p.ds(t);
  }

  static double dSigmaAbs(NoiseProcess p, double t) {
    return p.ds(t) * p.sigma(t) + p.s(t) * p.dSigma(t);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
