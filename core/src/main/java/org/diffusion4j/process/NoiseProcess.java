package org.diffusion4j.process;

/**
 * A forward noising process in the EDM form (Karras et al. 2022):
 * {@code x_t = s(t)·x0 + s(t)·σ(t)·ε}.
 *
 * <p>{@code s(t)} is the signal scale (the book's α_t) and {@code σ(t)} the <em>relative</em> noise level
 * of the scaled variable {@code x̂ = x/s(t) = x0 + σ(t)·ε}; the absolute noise std is {@code s·σ} (the
 * book's σ_t). Every process of the seeds is a pair of scalar functions; everything else (the SDE
 * coefficients f, g², the half log-SNR λ and its inverse) follows from them).
 *
 * <p>Time runs from data ({@code t = 0}, σ = 0) to noise ({@link #tMax()}). All arithmetic is in
 * {@code double}; implementations must be exact inverses of each other to round-off:
 * {@code sigmaInv(sigma(t)) == t} and {@code tOfLambda(lambda(t)) == t}.
 */
public interface NoiseProcess {

  /** The CLI / config identifier, e.g. {@code "vp"}, {@code "edm"}. */
  String id();

  /** Smallest time at which samplers evaluate the model (σ > 0), e.g. 1e-3 for VP. */
  double tMin();

  /** Time at which sampling starts (the prior). */
  double tMax();

  /** Signal scale {@code s(t)} (book: α_t). */
  double s(double t);

  /** {@code ds/dt}. */
  double ds(double t);

  /** Relative noise level {@code σ(t) = σ_t/α_t = e^{−λ(t)}}. */
  double sigma(double t);

  /** {@code dσ/dt}. */
  double dSigma(double t);

  /** The inverse of {@link #sigma(double)}: the time t with σ(t) = sigma. */
  double sigmaInv(double sigma);

  /** Book notation α_t = s(t). */
  default double alpha(double t) {
    return s(t);
  }

  /** Book notation σ_t = s(t)·σ(t): the absolute noise standard deviation. */
  default double sigmaAbs(double t) {
    return s(t) * sigma(t);
  }

  /** Drift coefficient of the forward SDE {@code dx = f(t)x dt + g(t) dw}: {@code f = s'/s} (Karras et al. 2022, eq. 9). */
  default double f(double t) {
    return ds(t) / s(t);
  }

  /** Squared diffusion coefficient {@code g² = 2 s² σ σ'} (in EDM form). */
  default double g2(double t) {
    double s = s(t);
    return 2 * s * s * sigma(t) * dSigma(t);
  }

  /** Half log-SNR {@code λ(t) = log(α_t/σ_t) = −log σ(t)}). */
  default double lambda(double t) {
    return -Math.log(sigma(t));
  }

  /** Inverse of {@link #lambda(double)}. */
  default double tOfLambda(double lambda) {
    return sigmaInv(Math.exp(-lambda));
  }

  /** σ at {@link #tMax()}: the prior's relative noise level. */
  default double sigmaMax() {
    return sigma(tMax());
  }

  /** σ at {@link #tMin()}. */
  default double sigmaMin() {
    return sigma(tMin());
  }

  /** The time that stands for "σ = 0" (data) on a grid: 0, or −1 for discrete timestep processes. */
  default double tData() {
    return 0;
  }

  /** Whether the process is a table over integer training timesteps (DDPM). */
  default boolean isDiscrete() {
    return false;
  }
}
