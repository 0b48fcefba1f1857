package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.diffusion4j.tensor.Scalars;

/**
 * Self-attention over the spatial positions of a feature map, as in DDPM's {@code AttnBlock} and
 * EDM's DDPM++ (Vaswani et al. 2017 eq. 1; Ho et al. 2020 App. B; Karras et al. 2022
 * {@code UNetBlock}): with h = GroupNorm(x) and 1×1 convolutions,
 * {@code q, k, v = W_qkv h} split into H heads of d = C/H channels,
 * {@code a = softmax(qᵀk/√d) v} per head over the L = H·W positions, and
 * {@code y = (x + W_proj a)/√2}. W_proj starts near zero (gain 1e-5).
 */
public final class SelfAttention extends FixedBlock {
  /** q, k and v of the [n, 3, H, d, L] projection, parsed once (DJL parses an index string at every get). */
  private static final NDIndex[] PART = {new NDIndex(":, 0"), new NDIndex(":, 1"), new NDIndex(":, 2")};
  private final int channels;
  private final int heads;
  private final GroupNorm norm;
  private final Conv qkv;
  private final Conv proj;
  private final Scalars.Constant scale;
  private final Scalars.Constant skipScale = new Scalars.Constant((float) Math.sqrt(0.5));

  /**
   * @param channels C
   * @param heads H ≥ 1 dividing C
   */
  public SelfAttention(int channels, int heads) {
    if (heads < 1 || channels % heads != 0) {
      throw new IllegalArgumentException("heads " + heads + " must be ≥ 1 and divide channels " + channels);
    }
    this.channels = channels;
    this.heads = heads;
    norm = addChildBlock("norm", new GroupNorm(GroupNorm.defaultGroups(channels), channels));
    qkv = addChildBlock("qkv", new Conv(channels, 3 * channels, 1, 1, Math.sqrt(0.2)));
    proj = addChildBlock("proj", new Conv(channels, channels, 1, 1, 1e-5));
    scale = new Scalars.Constant(1 / Math.sqrt(channels / heads));
  }

  /**
   * Scaled dot-product attention {@code a[b, c, i] = Σ_j softmax_j(Σ_c' q[b,c',i] k[b,c',j]/√d) v[b,c,j]}.
   *
   * @param q queries {@code [B, d, L]}
   * @param k keys {@code [B, d, L]}
   * @param v values {@code [B, d, L]}
   * @return {@code [B, d, L]}
   */
  public static NDArray attention(NDArray q, NDArray k, NDArray v) {
    long d = q.getShape().get(1);
    NDArray w = Scalars.mul(q.transpose(0, 2, 1).batchMatMul(k), 1 / Math.sqrt(d)).softmax(2);
    return v.batchMatMul(w.transpose(0, 2, 1));
  }

  /** {@link #attention(NDArray, NDArray, NDArray)} with 1/√d kept in {@code owner}'s manager. */
  private NDArray attention(NDArray q, NDArray k, NDArray v, NDArray owner) {
    NDArray w = scale.mul(q.transpose(0, 2, 1).batchMatMul(k), owner).softmax(2);
    return v.batchMatMul(w.transpose(0, 2, 1));
  }

  NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    Shape s = x.getShape();
    long n = s.get(0);
    long d = channels / heads;
    // Project to q, k, v per head: [n, 3, H, d, L] → three [n·H, d, L].
    NDArray h = norm.apply(ps, x, training);
    NDArray t = qkv.apply(ps, h, training).reshape(n, 3, heads, d, -1);
    long len = t.getShape().get(4);
    NDArray q = t.get(PART[0]).reshape(n * heads, d, len);
    NDArray k = t.get(PART[1]).reshape(n * heads, d, len);
    NDArray v = t.get(PART[2]).reshape(n * heads, d, len);
    NDArray owner = proj.weightArray();
    NDArray a = attention(q, k, v, owner).reshape(s);
    return skipScale.mul(x.add(proj.apply(ps, a, training)), owner);
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.singletonOrThrow(), training));
  }
}
