package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * Group normalisation (Wu &amp; He 2018, eq. 1–3; PyTorch {@code nn.GroupNorm} defaults): for input
 * {@code [n, C, …]} split into G groups of C/G channels,
 * {@code y = (x − μ_g)/sqrt(σ²_g + ε)·γ_c + β_c} with μ_g, σ²_g the mean and biased variance over
 * each sample's group (channels and all spatial positions). γ starts at 1, β at 0; ε = 1e-5.
 *
 * <p>DJL 0.36 has no GroupNorm; this is the U-Net's normaliser (DDPM++ uses it before every conv). On
 * PyTorch it runs {@code torch.group_norm} (through {@link NativeOps}); elsewhere a batch norm over the
 * groups plus the affine.
 */
public final class GroupNorm extends FixedBlock {
  private final int groups;
  private final int channels;
  private final float eps;
  private final Parameter gamma;
  private final Parameter beta;

  /** GroupNorm with ε = 1e-5. */
  public GroupNorm(int groups, int channels) {
    this(groups, channels, 1e-5f);
  }

  /**
   * @param groups G ≥ 1, dividing {@code channels}
   * @param channels C, the size of axis 1 of the input
   * @param eps ε &gt; 0 added to the variance
   */
  public GroupNorm(int groups, int channels, float eps) {
    if (groups < 1 || channels < 1 || channels % groups != 0) {
      throw new IllegalArgumentException("groups " + groups + " must be ≥ 1 and divide channels " + channels);
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException("eps must be > 0, got " + eps);
    }
    this.groups = groups;
    this.channels = channels;
    this.eps = eps;
    gamma = param("gamma", Parameter.Type.GAMMA, new Shape(channels), Initializer.ONES);
    beta = param("beta", Parameter.Type.BETA, new Shape(channels), Initializer.ZEROS);
  }

  /**
   * The DDPM++ choice of groups for C channels (Karras et al. 2022 {@code GroupNorm}: min(32, C/4)),
   * lowered to the nearest divisor of C.
   */
  public static int defaultGroups(int channels) {
    int g = Math.max(1, Math.min(32, channels / 4));
    while (channels % g != 0) {
      g--;
    }
    return g;
  }

  /** G. */
  public int groups() {
    return groups;
  }

  /** C. */
  public int channels() {
    return channels;
  }

  /** γ. */
  public Parameter gamma() {
    return gamma;
  }

  /** β. */
  public Parameter beta() {
    return beta;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.singletonOrThrow(), training));
  }

  /**
   * {@code SiLU(GroupNorm(x))}, what DDPM++ and diffusers apply before each convolution of a residual block: on
   * PyTorch one fused call ({@link NativeOps#groupNormSilu}), elsewhere {@link Silu#apply} of {@link #apply}.
   */
  public NDArray applySilu(ParameterStore ps, NDArray x, boolean training) {
    if (TorchScript.isTorch(x)) {
      check(x.getShape());
      return NativeOps.groupNormSilu(x, groups, ps.getValue(gamma, x.getDevice(), training),
          ps.getValue(beta, x.getDevice(), training), eps);
    }
    return Silu.apply(apply(ps, x, training));
  }

  private void check(Shape shape) {
    if (shape.dimension() < 2 || shape.get(1) != channels) {
      throw new IllegalArgumentException("GroupNorm expects [n, " + channels + ", …], got " + shape);
    }
  }

  NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    Shape shape = x.getShape();
    check(shape);
    if (TorchScript.isTorch(x)) {
      // PyTorch's fused kernel (statistics, normalisation and affine in one pass, forward and backward).
      return NativeOps.groupNorm(x, groups, ps.getValue(gamma, x.getDevice(), training),
          ps.getValue(beta, x.getDevice(), training), eps);
    }
    // Other engines: batch statistics over [1, n·G, …] are the per-sample group statistics.
    NDManager m = x.getManager();
    long ng = shape.get(0) * groups;
    NDArray g = x.reshape(1, ng, -1);
    Shape stats = new Shape(ng);
    DataType t = x.getDataType();
    NDArray y = g.getNDArrayInternal().batchNorm(g, m.zeros(stats, t), m.ones(stats, t), m.ones(stats, t),
        m.zeros(stats, t), 1, 0.1f, eps, true).singletonOrThrow().reshape(shape);
    // Per-channel affine.
    long[] b = new long[shape.dimension()];
    java.util.Arrays.fill(b, 1);
    b[1] = channels;
    Shape bShape = new Shape(b);
    NDArray gam = FixedBlock.local(ps.getValue(gamma, x.getDevice(), training).reshape(bShape), x);
    NDArray bet = FixedBlock.local(ps.getValue(beta, x.getDevice(), training).reshape(bShape), x);
    return y.mul(gam).add(bet);
  }
}
