package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.diffusion4j.train.nn.GroupNorm;
import org.diffusion4j.tensor.Scalars;

/**
 * Spatial self-attention of the DDPM U-Net (Ho et al. 2020, App. B; Vaswani et al. 2017 eq. 1), as diffusers'
 * {@code Attention} built from its deprecated attention block: the C×(H·W) feature map, optionally group
 * normalised, is projected to H heads of width d ({@code to_q}, {@code to_k}, {@code to_v}, head h taking
 * channels h·d..(h+1)·d − 1), each head computes {@code softmax(q kᵀ/√d) v} with the softmax in float32,
 * {@code to_out.0} projects back, and {@code y = (x + out)/rescale_output_factor}.
 */
final class Attention extends DiffusersBlock {
  private final GroupNorm groupNorm;
  private final LinearLayer toQ;
  private final LinearLayer toK;
  private final LinearLayer toV;
  private final LinearLayer toOut;
  private final int heads;
  private final int headDim;
  private final float rescale;

  /**
   * @param channels C
   * @param headDim d; heads = C/d (integer division), 0 for one head of width C
   * @param groups GroupNorm groups, or 0 for no norm
   */
  Attention(Map<String, Parameter> names, String name, int channels, int headDim, int groups, double eps,
      double rescaleOutputFactor) {
    this.headDim = headDim == 0 ? channels : headDim;
    this.heads = channels / this.headDim;
    if (heads < 1) {
      throw new IllegalArgumentException("attention_head_dim " + headDim + " exceeds the " + channels
          + " channels of " + name);
    }
    int inner = heads * this.headDim;
    groupNorm = groups > 0 ? groupNorm(names, name + ".group_norm", groups, channels, eps) : null;
    toQ = addChildBlock("to_q", new LinearLayer(names, name + ".to_q", channels, inner));
    toK = addChildBlock("to_k", new LinearLayer(names, name + ".to_k", channels, inner));
    toV = addChildBlock("to_v", new LinearLayer(names, name + ".to_v", channels, inner));
    toOut = addChildBlock("to_out", new LinearLayer(names, name + ".to_out.0", inner, channels));
    this.rescale = (float) rescaleOutputFactor;
  }

  /** Number of heads. */
  int heads() {
    return heads;
  }

  NDArray apply(ParameterStore ps, NDArray x) {
    Shape s = x.getShape();
    long n = s.get(0);
    long c = s.get(1);
    long hw = s.get(2) * s.get(3);
    NDArray h = groupNorm == null ? x : norm(groupNorm, ps, x);
    h = h.reshape(n, c, hw).transpose(0, 2, 1); // [n, hw, c]
    NDArray q = split(toQ.apply(ps, h), n, hw);
    NDArray k = split(toK.apply(ps, h), n, hw);
    NDArray v = split(toV.apply(ps, h), n, hw);
    NDArray scores = Scalars.mul(q.matMul(k.transpose(0, 1, 3, 2)), 1 / Math.sqrt(headDim));
    DataType type = scores.getDataType();
    NDArray probs = scores.toType(DataType.FLOAT32, false).softmax(-1).toType(type, false);
    NDArray o = probs.matMul(v).transpose(0, 2, 1, 3).reshape(n, hw, (long) heads * headDim);
    o = toOut.apply(ps, o).transpose(0, 2, 1).reshape(s);
    NDArray y = o.add(x);
    return rescale == 1 ? y : Scalars.div(y, rescale);
  }

  /** {@code [n, hw, H·d]} → {@code [n, H, hw, d]}. */
  private NDArray split(NDArray a, long n, long hw) {
    return a.reshape(n, hw, heads, headDim).transpose(0, 2, 1, 3);
  }
}
