package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.denoiser.Scalings;

/**
 * A raw network F made into the frame's denoiser by preconditioning (Karras et al. 2022 eq. 7 and
 * Table 1; seed 003 eq. 6–7; SPEC NET-01, PAR-06):
 * {@code D(x̂; σ) = c_skip(σ)·x̂ + c_out(σ)·F(c_in(σ)·x̂; c_noise(σ) [, labels])}.
 *
 * <p>Every model of the frame is one {@link Preconditioning} row around the same F:
 * <ul>
 *   <li>EDM ({@code Preconditioning.Edm(σ_data)}): F predicts a mixture of x0 and ε with unit-variance
 *       input and target; {@code c_noise = ¼ ln σ}.</li>
 *   <li>VP / DDPM ({@code Vp}): F is an ε-network, {@code D = x̂ − σ F}, queried at
 *       {@code c_noise = (M−1) t(σ)} with input {@code x̂/sqrt(σ²+1)} = the VP state x_t.</li>
 *   <li>VE / NCSN ({@code Ve}): {@code D = x̂ + σ F}, F = −ε = σ·score, {@code c_noise = ln(σ/2)}.</li>
 *   <li>Flow matching / rectified flow ({@code Flow}): F is the velocity u(x_t, t) of
 *       {@code x_t = (1−t) x0 + t ε} at {@code t = σ/(1+σ)}, {@code x_t = x̂/(1+σ)}, so
 *       {@code D = x_t − t u}.</li>
 * </ul>
 * Training any of these is the same regression {@code λ(σ)‖D(x0 + σε; σ) − x0‖²} through
 * {@link #denoise(ParameterStore, boolean, NDArray, NDArray, NDArray)}; sampling is any sampler on
 * this class as a {@link Denoiser}.
 *
 * <p>At σ = 0 every row has {@code c_skip = 1, c_out = 0}, so {@code D(x̂; 0) = x̂} is returned without
 * calling F (whose c_noise may be −∞ there).
 */
public final class NetworkDenoiser implements Denoiser {
  private final Block network;
  private final Preconditioning preconditioning;

  /**
   * @param network an initialised raw network F (see {@link Mlp}, {@link UNet} for the contract)
   * @param preconditioning the row of Karras et al. Table 1 that maps it to a denoiser
   */
  public NetworkDenoiser(Block network, Preconditioning preconditioning) {
    this.network = network;
    this.preconditioning = preconditioning;
  }

  /** F. */
  public Block network() {
    return network;
  }

  /** The preconditioning. */
  public Preconditioning preconditioning() {
    return preconditioning;
  }

  /** Unconditional sampling-mode denoiser (labels absent: the null label for class networks). */
  @Override
  public NDArray denoise(NDArray x, double sigma) {
    return denoise(x, sigma, null);
  }

  /** A sampling-mode denoiser with fixed class labels {@code [n]} (null: the null label). */
  public Denoiser withLabels(NDArray labels) {
    return (x, sigma) -> denoise(x, sigma, labels);
  }

  /**
   * Sampling mode: σ shared by the batch, F in inference (no dropout, no gradients — do not call
   * inside an open {@code GradientCollector}). Computes in F's FLOAT32 and returns x's dtype; every
   * intermediate is closed, the result joins the caller's {@code NDScope} if one is open.
   *
   * @param x x̂ {@code [n, …]}, FLOAT32 or FLOAT64
   * @param sigma σ ≥ 0
   * @param labels int class labels {@code [n]}, or null
   */
  public NDArray denoise(NDArray x, double sigma, NDArray labels) {
    if (!(sigma >= 0) || Double.isInfinite(sigma)) {
      throw new IllegalArgumentException("σ must be finite and ≥ 0, got " + sigma);
    }
    if (sigma == 0) {
      // σ = 0: D(x̂; 0) = x̂.
      return x.duplicate();
    }
    Scalings c = preconditioning.scalings(sigma);
    NDArray result;
    try (NDScope scope = new NDScope()) {
      NDManager m = x.getManager();
      long n = x.getShape().get(0);
      NDArray xIn = x.toType(DataType.FLOAT32, false).mul((float) c.cIn());
      NDArray cNoise = m.full(new Shape(n), (float) c.cNoise(), DataType.FLOAT32);
      NDList in = labels == null ? new NDList(xIn, cNoise) : new NDList(xIn, cNoise, labels);
      NDArray f = network.forward(new ParameterStore(m, false), in, false).singletonOrThrow();
      result = x.mul(c.cSkip()).add(f.toType(x.getDataType(), false).mul(c.cOut()));
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }

  /**
   * Training mode: per-sample σ, differentiable in F's parameters (open a {@code GradientCollector}
   * around the loss). The coefficients are computed on the host from the core preconditioning and
   * broadcast over x's trailing axes.
   *
   * @param ps the parameter store of the step
   * @param training true to apply dropout
   * @param xHat x̂ = x0 + σ ε, {@code [n, …]} FLOAT32
   * @param sigma σ per sample, {@code [n]}, each &gt; 0 (or wherever c_noise is finite)
   * @param labels int class labels {@code [n]}, or null
   * @return D(x̂; σ), shaped like x̂
   */
  public NDArray denoise(ParameterStore ps, boolean training, NDArray xHat, NDArray sigma, NDArray labels) {
    Shape s = xHat.getShape();
    int n = Math.toIntExact(s.get(0));
    double[] sig = sigma.toType(DataType.FLOAT64, false).toDoubleArray();
    if (sig.length != n) {
      throw new IllegalArgumentException("sigma must have shape [" + n + "], got " + sigma.getShape());
    }
    float[] cSkip = new float[n];
    float[] cOut = new float[n];
    float[] cIn = new float[n];
    float[] cNoise = new float[n];
    for (int i = 0; i < n; i++) {
      Scalings c = preconditioning.scalings(sig[i]);
      if (!Double.isFinite(c.cNoise()) || !Double.isFinite(c.cIn())) {
        throw new IllegalArgumentException("c_noise(σ = " + sig[i] + ") = " + c.cNoise() + " at index " + i
            + " is not finite for " + preconditioning.id() + " preconditioning; draw σ > 0");
      }
      cSkip[i] = (float) c.cSkip();
      cOut[i] = (float) c.cOut();
      cIn[i] = (float) c.cIn();
      cNoise[i] = (float) c.cNoise();
    }
    NDManager m = xHat.getManager();
    long[] b = new long[s.dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = n;
    Shape bShape = new Shape(b);
    NDArray xIn = xHat.mul(m.create(cIn, bShape));
    NDList in = labels == null ? new NDList(xIn, m.create(cNoise))
        : new NDList(xIn, m.create(cNoise), labels);
    NDArray f = network.forward(ps, in, training).singletonOrThrow();
    return xHat.mul(m.create(cSkip, bShape)).add(f.mul(m.create(cOut, bShape)));
  }
}
