package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.diffusion4j.train.nn.GroupNorm;
import org.diffusion4j.train.nn.Silu;
import org.diffusion4j.tensor.Scalars;

/**
 * The residual block of the DDPM U-Net (Ho et al. 2020, App. B; diffusers' {@code ResnetBlock2D}):
 * <pre>
 *   h = conv1(SiLU(norm1(x)))
 *   e = time_emb_proj(SiLU(emb))[:, :, None, None]
 *   default:      h = SiLU(norm2(h + e))
 *   scale_shift:  (scale, shift) = split(e); h = SiLU(norm2(h)·(1 + scale) + shift)   (FiLM; Dhariwal &amp; Nichol 2021)
 *   h = conv2(dropout(h))
 *   y = (conv_shortcut(x) or x + h) / output_scale_factor
 * </pre>
 * The shortcut is a 1×1 convolution when the channel count changes.
 */
final class ResnetBlock2D extends DiffusersBlock {
  private final GroupNorm norm1;
  private final Conv2dLayer conv1;
  private final LinearLayer timeEmbProj;
  private final GroupNorm norm2;
  private final Conv2dLayer conv2;
  private final Conv2dLayer shortcut;
  private final boolean scaleShift;
  private final float outputScaleFactor;
  private final float dropout;

  ResnetBlock2D(Map<String, Parameter> names, String name, int in, int out, int temb, int groups, double eps,
      boolean scaleShift, double outputScaleFactor, double dropout) {
    norm1 = groupNorm(names, name + ".norm1", groups, in, eps);
    conv1 = addChildBlock("conv1", new Conv2dLayer(names, name + ".conv1", in, out, 3, 1, 1));
    timeEmbProj = addChildBlock("time_emb_proj",
        new LinearLayer(names, name + ".time_emb_proj", temb, scaleShift ? 2 * out : out));
    norm2 = groupNorm(names, name + ".norm2", groups, out, eps);
    conv2 = addChildBlock("conv2", new Conv2dLayer(names, name + ".conv2", out, out, 3, 1, 1));
    shortcut = in != out
        ? addChildBlock("conv_shortcut", new Conv2dLayer(names, name + ".conv_shortcut", in, out, 1, 1, 0)) : null;
    this.scaleShift = scaleShift;
    this.outputScaleFactor = (float) outputScaleFactor;
    this.dropout = (float) dropout;
  }

  NDArray apply(ParameterStore ps, NDArray x, NDArray emb, boolean training) {
    NDArray h = conv1.apply(ps, normSilu(norm1, ps, x));
    NDArray e = timeEmbProj.apply(ps, Silu.apply(emb)).expandDims(2).expandDims(3);
    if (scaleShift) {
      NDList parts = e.split(2, 1);
      h = Silu.apply(norm(norm2, ps, h).mul(parts.get(0).add(1)).add(parts.get(1)));
    } else {
      h = normSilu(norm2, ps, h.add(e));
    }
    if (training && dropout > 0) {
      h = Dropout.dropout(h, dropout, true).singletonOrThrow();
    }
    h = conv2.apply(ps, h);
    NDArray y = (shortcut == null ? x : shortcut.apply(ps, x)).add(h);
    return outputScaleFactor == 1 ? y : Scalars.div(y, outputScaleFactor);
  }
}
