package org.diffusion4j.denoiser;

/**
 * The single source of truth for converting between ε, x0, v, score and velocity), as
 * linear maps with scalar coefficients: every target is {@code a·x + b·(prediction)}.
 *
 * <p>Notation (book): {@code x = α x0 + σ ε}, α' and σ' the time derivatives. For v-prediction
 * {@code v = α ε − σ x0}; for velocity {@code u = α' x0 + σ' ε}.
 */
public final class Conversions {
  private Conversions() {}

  /**
   * Coefficients {@code (a, b)} with {@code x0 = a·x + b·out} for a head's output {@code out}.
   */
  public static double[] x0Coefficients(Parameterization p, double alpha, double sigma, double dAlpha,
      double dSigma) {
    switch (p) {
      case EPS:
        return new double[] {1 / alpha, -sigma / alpha};
      case X0:
        return new double[] {0, 1};
      case V: {
        // v = α ε − σ x0, x = α x0 + σ ε  ⇒  x0 = (α x − σ v)/(α² + σ²).
        double r = alpha * alpha + sigma * sigma;
        return new double[] {alpha / r, -sigma / r};
      }
      case SCORE:
        return new double[] {1 / alpha, sigma * sigma / alpha};
      case VELOCITY: {
        // u = α' x0 + σ' ε ⇒ x0 = (σ' x − σ u)/(α σ' − α' σ).
        double det = alpha * dSigma - dAlpha * sigma;
        if (det == 0) {
          throw new IllegalArgumentException("velocity is not invertible where α σ' − α' σ = 0");
        }
        return new double[] {dSigma / det, -sigma / det};
      }
      default:
        throw new AssertionError(p);
    }
  }

  /** Coefficients {@code (a, b)} with {@code target = a·x + b·x0}: the inverse map. */
  public static double[] fromX0Coefficients(Parameterization p, double alpha, double sigma,
      double dAlpha, double dSigma) {
    switch (p) {
      case EPS:
        return new double[] {1 / sigma, -alpha / sigma};
      case X0:
        return new double[] {0, 1};
      case V: {
        // ε = (x − α x0)/σ, v = α ε − σ x0 = (α/σ) x − ((α² + σ²)/σ) x0.
        return new double[] {alpha / sigma, -(alpha * alpha + sigma * sigma) / sigma};
      }
      case SCORE:
        return new double[] {-1 / (sigma * sigma), alpha / (sigma * sigma)};
      case VELOCITY:
        // u = α' x0 + σ' (x − α x0)/σ.
        return new double[] {dSigma / sigma, dAlpha - dSigma * alpha / sigma};
      default:
        throw new AssertionError(p);
    }
  }

  /** {@code ε = (x − α x0)/σ}. */
  public static double eps(double x, double x0, double alpha, double sigma) {
    return (x - alpha * x0) / sigma;
  }

  /** {@code score = (α x0 − x)/σ²}. */
  public static double score(double x, double x0, double alpha, double sigma) {
    return (alpha * x0 - x) / (sigma * sigma);
  }
}
