package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;

/**
 * The U-Net's resolution changes (Ho et al. 2020, App. B; diffusers' {@code Downsample2D} and
 * {@code Upsample2D} with {@code use_conv}): down is a stride-2 3×3 convolution with padding p, where p = 0
 * first pads the right and bottom edges by one zero column/row (TensorFlow's "SAME" for even sizes, as the
 * original DDPM code); up is nearest-neighbour ×2 followed by a 3×3 convolution with padding 1.
 */
final class Resample extends DiffusersBlock {
  private final Conv2dLayer conv;
  private final boolean down;
  private final boolean padRightBottom;

  private Resample(Conv2dLayer conv, boolean down, boolean padRightBottom) {
    this.conv = addChildBlock("conv", conv);
    this.down = down;
    this.padRightBottom = padRightBottom;
  }

  /** {@code Downsample2D}: tensors {@code name.conv.weight/bias}. */
  static Resample down(Map<String, Parameter> names, String name, int channels, int padding) {
    return new Resample(new Conv2dLayer(names, name + ".conv", channels, channels, 3, 2, padding), true,
        padding == 0);
  }

  /** {@code Upsample2D}: tensors {@code name.conv.weight/bias}. */
  static Resample up(Map<String, Parameter> names, String name, int channels) {
    return new Resample(new Conv2dLayer(names, name + ".conv", channels, channels, 3, 1, 1), false, false);
  }

  NDArray apply(ParameterStore ps, NDArray x) {
    if (!down) {
      return conv.apply(ps, x.repeat(2, 2).repeat(3, 2));
    }
    if (padRightBottom) {
      Shape s = x.getShape();
      NDArray right = x.getManager().zeros(new Shape(s.get(0), s.get(1), s.get(2), 1), x.getDataType());
      x = x.concat(right, 3);
      NDArray bottom = x.getManager().zeros(new Shape(s.get(0), s.get(1), 1, s.get(3) + 1), x.getDataType());
      x = x.concat(bottom, 2);
    }
    return conv.apply(ps, x);
  }
}
