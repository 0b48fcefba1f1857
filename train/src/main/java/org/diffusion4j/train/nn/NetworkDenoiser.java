package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.denoiser.Scalings;

/**
 * A raw network F made into the frame's denoiser by preconditioning (Karras et al. 2022, eq. 7 and
 * Table 1): {@code D(x̂; σ, c) = c_skip(σ)·x̂ + c_out(σ)·F(c_in(σ)·x̂; c_noise(σ), c)}.
 *
 * <p>Every model of the frame is one {@link Preconditioning} row around the same F:
 * <ul>
 *   <li>EDM ({@code Preconditioning.Edm(σ_data)}): F predicts a mixture of x0 and ε with unit-variance
 *       input and target; {@code c_noise = ¼ ln σ}.</li>
 *   <li>VP / DDPM ({@code Vp}): F is an ε-network, {@code D = x̂ − σ F}, queried at the time of the
 *       run's own process (the timestep on a discrete schedule) with input {@code x̂/sqrt(σ²+1)}.</li>
 *   <li>VE / NCSN ({@code Ve}): {@code D = x̂ + σ F}, F = −ε = σ·score, {@code c_noise = ln(σ/2)}.</li>
 *   <li>Flow matching / rectified flow ({@code Flow}): F is the velocity u(x_t, t) of
 *       {@code x_t = (1−t) x0 + t ε} at {@code t = σ/(1+σ)}, {@code x_t = x̂/(1+σ)}, so
 *       {@code D = x_t − t u}.</li>
 * </ul>
 *
 * <p>There is exactly one preconditioned forward, {@link #forward}: per-sample σ, the batch's
 * conditioning, differentiable when called with a training parameter store inside a
 * {@code GradientCollector}. Training asks it for F and the effective target (the loss of Karras et
 * al. 2022, eq. 8, in the form that stays finite in float32 at σ → 0 and σ → ∞); sampling asks it, via
 * {@link #denoise}, for D in inference mode.
 *
 * <p>At σ = 0 every row has {@code c_skip = 1, c_out = 0}, so {@code D(x̂; 0) = x̂}: a batch entirely at
 * σ = 0 returns x̂ without calling F, and a σ = 0 row in a mixed batch is fed F at a finite c_noise and
 * multiplied by c_out = 0.
 */
public final class NetworkDenoiser implements Denoiser {
  /** The σ whose c_noise is fed to F for σ = 0 rows of a mixed batch (their F is multiplied by 0). */
  private static final double ZERO_STANDIN = 1e-20;

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

  /**
   * The preconditioned forward at one batch: F's output together with the coefficients, each shaped
   * {@code [n, 1, …]} to broadcast against x̂.
   *
   * @param xHat the scaled state x̂ the forward was evaluated at
   * @param f the raw network's output F(c_in·x̂; c_noise, c), in F's dtype (FLOAT32)
   * @param cSkip c_skip per sample, in x̂'s dtype
   * @param cOut c_out per sample, in x̂'s dtype
   */
  public record Output(NDArray xHat, NDArray f, NDArray cSkip, NDArray cOut) {
    /** {@code D = c_skip·x̂ + c_out·F}, in x̂'s dtype. */
    public NDArray denoised() {
      return xHat.mul(cSkip).add(f.toType(xHat.getDataType(), false).mul(cOut));
    }

    /**
     * What F should have output for D to equal {@code x0}: {@code (x0 − c_skip·x̂)/c_out}, so that
     * {@code ‖D − x0‖² = c_out²·‖F − target‖²} (Karras et al. 2022, eq. 8). Every σ must be &gt; 0.
     */
    public NDArray effectiveTarget(NDArray x0) {
      return x0.sub(xHat.mul(cSkip)).div(cOut);
    }
  }

  /** The raw network as the preconditioning calls it: F(c_in·x̂, c_noise[n], labels[n] or null). */
  @FunctionalInterface
  public interface RawNetwork {
    NDArray apply(NDArray input, NDArray cNoise, NDArray labels);
  }

  /**
   * The one preconditioned forward of this network.
   *
   * @param ps the parameter store: a training store inside a {@code GradientCollector} makes the
   *     output differentiable in F's parameters (and in x̂, if x̂ requires a gradient)
   * @param training true to apply dropout
   * @param xHat x̂ = x0 + σ ε, {@code [n, …]}, FLOAT32 or FLOAT64 (F runs in FLOAT32)
   * @param sigma σ per sample, length n, each finite and ≥ 0
   * @param conditioning the batch's conditioning (labels reach F; {@link Conditioning#NULL_LABEL} is ∅)
   */
  public Output forward(ParameterStore ps, boolean training, NDArray xHat, double[] sigma, Conditioning conditioning) {
    double[] target = network instanceof TwoTimeNetwork ? conditioning.sigmaTarget() : null;
    double[] w = guided(network) ? conditioning.guidance() : null;
    if (guided(network) && w == null) {
      throw new IllegalArgumentException("this network is guidance-conditioned (a guided-distillation student): "
          + "give a guidance scale w per sample (Conditioning.guidance; d4j sample --guidance W)");
    }
    return precondition(preconditioning, xHat, sigma, conditioning, (in, cNoise, labels) -> {
      NDList list = new NDList(in.toType(DataType.FLOAT32, false), cNoise.toType(DataType.FLOAT32, false));
      if (target != null) {
        list.add(secondTime(xHat.getManager(), target));
      }
      if (labels != null) {
        list.add(labels);
      }
      if (w != null) {
        list.add(xHat.getManager().create(w).toType(DataType.FLOAT32, false));
      }
      return network.forward(ps, list, training).singletonOrThrow();
    });
  }

  /**
   * Whether {@code network} takes a guidance scale per sample ({@link Mlp} with a guidance range): the
   * students of guided distillation (Meng et al. 2023).
   */
  public static boolean guided(ai.djl.nn.Block network) {
    return network instanceof Mlp m && m.config().guided();
  }

  /**
   * c_noise(σ′) per sample, FLOAT32, for a {@link TwoTimeNetwork}; levels below {@link #SECOND_TIME_FLOOR}
   * (σ′ = 0, the map to the data) are fed as the floor, where c_noise is finite for every preconditioning.
   */
  NDArray secondTime(NDManager m, double[] target) {
    double[] c = new double[target.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = preconditioning.scalings(Math.max(target[i], SECOND_TIME_FLOOR)).cNoise();
    }
    return m.create(c).toType(DataType.FLOAT32, false);
  }

  /** The smallest target level a two-time network is told: σ_min = 0.002 of Song et al. 2023. */
  public static final double SECOND_TIME_FLOOR = 0.002;

  /**
   * The preconditioning arithmetic itself, for any raw network: coefficients computed on the host in
   * double per sample, F called once on the whole batch. {@link #forward} is this with the block as F;
   * the objectives' tests call it with hand-made F's.
   */
  public static Output precondition(Preconditioning preconditioning, NDArray xHat, double[] sigma,
      Conditioning conditioning, RawNetwork f) {
    Shape s = xHat.getShape();
    int n = Math.toIntExact(s.get(0));
    Denoiser.checkSigma(sigma, n);
    conditioning.requireSize(n);
    double[] cSkip = new double[n];
    double[] cOut = new double[n];
    double[] cIn = new double[n];
    double[] cNoise = new double[n];
    for (int i = 0; i < n; i++) {
      Scalings c = preconditioning.scalings(sigma[i] == 0 ? ZERO_STANDIN : sigma[i]);
      if (!Double.isFinite(c.cNoise()) || !Double.isFinite(c.cIn())) {
        throw new IllegalArgumentException("c_noise(σ = " + sigma[i] + ") = " + c.cNoise() + " of sample " + i
            + " is not finite for " + preconditioning.id() + " preconditioning");
      }
      cSkip[i] = sigma[i] == 0 ? 1 : c.cSkip();
      cOut[i] = sigma[i] == 0 ? 0 : c.cOut();
      cIn[i] = c.cIn();
      cNoise[i] = c.cNoise();
    }
    NDManager m = xHat.getManager();
    long[] b = new long[s.dimension()];
    Arrays.fill(b, 1);
    b[0] = n;
    Shape bShape = new Shape(b);
    DataType type = xHat.getDataType();
    NDArray xIn = xHat.mul(coefficients(m, cIn, bShape, type));
    long[] labels = conditioning.labels();
    NDArray out = f.apply(xIn, coefficients(m, cNoise, new Shape(n), type), labels == null ? null : m.create(labels));
    return new Output(xHat, out, coefficients(m, cSkip, bShape, type), coefficients(m, cOut, bShape, type));
  }

  /**
   * Host coefficients as an array of {@code type}: made in that dtype directly for FLOAT32 and FLOAT64 (the same
   * rounding as a FLOAT64 array converted, one native call fewer), converted otherwise.
   */
  private static NDArray coefficients(NDManager m, double[] v, Shape shape, DataType type) {
    if (type == DataType.FLOAT64) {
      return m.create(v, shape);
    }
    if (type == DataType.FLOAT32) {
      float[] f = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        f[i] = (float) v[i];
      }
      return m.create(f, shape);
    }
    return m.create(v, shape).toType(type, false);
  }

  /**
   * Sampling mode: {@link #forward} with F in inference (no dropout), returning D in x's dtype. Every
   * intermediate is closed; the result joins the caller's {@code NDScope} if one is open. Outside a
   * {@code GradientCollector} nothing is recorded for gradients, on whatever thread it runs ({@link
   * InferenceMode}).
   */
  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning conditioning) {
    Denoiser.checkSigma(sigma, x.getShape().get(0));
    boolean allZero = true;
    for (double v : sigma) {
      allZero &= v == 0;
    }
    if (allZero) {
      conditioning.requireSize(x.getShape().get(0));
      return x.duplicate();
    }
    NDArray result;
    try (NDScope scope = new NDScope(); InferenceMode off = InferenceMode.enter(x)) {
      result = forward(new ParameterStore(x.getManager(), false), false, x, sigma, conditioning).denoised();
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }
}
