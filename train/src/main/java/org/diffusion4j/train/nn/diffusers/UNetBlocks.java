package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The three level blocks of diffusers' {@code UNet2DModel}: a down level ({@code DownBlock2D}, or
 * {@code AttnDownBlock2D} with attention after each residual block), the middle
 * ({@code UNetMidBlock2D}: resnet, attention, resnet) and an up level ({@code UpBlock2D} /
 * {@code AttnUpBlock2D}: each residual block takes the previous output concatenated with one skip).
 */
final class UNetBlocks {
  private UNetBlocks() {}

  /** The settings every residual block and attention of a network shares. */
  record Common(int temb, int groups, double eps, boolean scaleShift, double dropout, int headDim) {}

  /** {@code DownBlock2D} / {@code AttnDownBlock2D}: tensors {@code down_blocks.i.{resnets,attentions,downsamplers}}. */
  static final class Down extends DiffusersBlock {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Attention> attentions = new ArrayList<>();
    private final Resample downsampler;

    Down(Map<String, Parameter> names, String name, int in, int out, int layers, boolean attention,
        boolean downsample, int padding, Common c) {
      for (int i = 0; i < layers; i++) {
        resnets.add(addChildBlock("resnet" + i, new ResnetBlock2D(names, name + ".resnets." + i, i == 0 ? in : out,
            out, c.temb(), c.groups(), c.eps(), c.scaleShift(), 1, c.dropout())));
        if (attention) {
          attentions.add(addChildBlock("attention" + i,
              new Attention(names, name + ".attentions." + i, out, c.headDim(), c.groups(), c.eps(), 1)));
        }
      }
      downsampler = downsample
          ? addChildBlock("downsampler", Resample.down(names, name + ".downsamplers.0", out, padding)) : null;
    }

    /** Applies the level, pushing each residual output (and the downsampled one) onto {@code skips}. */
    NDArray apply(ParameterStore ps, NDArray h, NDArray emb, Deque<NDArray> skips, boolean training) {
      for (int i = 0; i < resnets.size(); i++) {
        h = resnets.get(i).apply(ps, h, emb, training);
        if (!attentions.isEmpty()) {
          h = attentions.get(i).apply(ps, h);
        }
        skips.push(h);
      }
      if (downsampler != null) {
        h = downsampler.apply(ps, h);
        skips.push(h);
      }
      return h;
    }
  }

  /** {@code UNetMidBlock2D} with one layer: tensors {@code mid_block.{resnets.0,attentions.0,resnets.1}}. */
  static final class Mid extends DiffusersBlock {
    private final ResnetBlock2D first;
    private final Attention attention;
    private final ResnetBlock2D second;

    /**
     * @param attnGroups GroupNorm groups of the attention, 0 for none (diffusers: the resnets' groups with
     *     the default time shift, none with scale-shift, unless {@code attn_norm_num_groups} says otherwise)
     */
    Mid(Map<String, Parameter> names, String name, int ch, double scaleFactor, boolean addAttention, int attnGroups,
        Common c) {
      first = addChildBlock("resnet0", new ResnetBlock2D(names, name + ".resnets.0", ch, ch, c.temb(), c.groups(),
          c.eps(), c.scaleShift(), scaleFactor, c.dropout()));
      attention = addAttention ? addChildBlock("attention",
          new Attention(names, name + ".attentions.0", ch, c.headDim(), attnGroups, c.eps(), scaleFactor)) : null;
      second = addChildBlock("resnet1", new ResnetBlock2D(names, name + ".resnets.1", ch, ch, c.temb(), c.groups(),
          c.eps(), c.scaleShift(), scaleFactor, c.dropout()));
    }

    NDArray apply(ParameterStore ps, NDArray h, NDArray emb, boolean training) {
      h = first.apply(ps, h, emb, training);
      if (attention != null) {
        h = attention.apply(ps, h);
      }
      return second.apply(ps, h, emb, training);
    }
  }

  /** {@code UpBlock2D} / {@code AttnUpBlock2D}: tensors {@code up_blocks.i.{resnets,attentions,upsamplers}}. */
  static final class Up extends DiffusersBlock {
    private final List<ResnetBlock2D> resnets = new ArrayList<>();
    private final List<Attention> attentions = new ArrayList<>();
    private final Resample upsampler;

    /**
     * @param in the channels of this level's last skip (the next shallower level's output)
     * @param prev the channels coming from below
     */
    Up(Map<String, Parameter> names, String name, int in, int prev, int out, int layers, boolean attention,
        boolean upsample, Common c) {
      for (int i = 0; i < layers; i++) {
        int skip = i == layers - 1 ? in : out;
        int from = i == 0 ? prev : out;
        resnets.add(addChildBlock("resnet" + i, new ResnetBlock2D(names, name + ".resnets." + i, from + skip, out,
            c.temb(), c.groups(), c.eps(), c.scaleShift(), 1, c.dropout())));
        if (attention) {
          attentions.add(addChildBlock("attention" + i,
              new Attention(names, name + ".attentions." + i, out, c.headDim(), c.groups(), c.eps(), 1)));
        }
      }
      upsampler = upsample ? addChildBlock("upsampler", Resample.up(names, name + ".upsamplers.0", out)) : null;
    }

    /** Number of skips the level consumes. */
    int layers() {
      return resnets.size();
    }

    NDArray apply(ParameterStore ps, NDArray h, NDArray emb, Deque<NDArray> skips, boolean training) {
      for (int i = 0; i < resnets.size(); i++) {
        h = resnets.get(i).apply(ps, h.concat(skips.pop(), 1), emb, training);
        if (!attentions.isEmpty()) {
          h = attentions.get(i).apply(ps, h);
        }
      }
      return upsampler == null ? h : upsampler.apply(ps, h);
    }
  }
}
