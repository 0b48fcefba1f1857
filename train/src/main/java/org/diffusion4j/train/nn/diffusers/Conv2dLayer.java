package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import java.util.Map;

/** {@code torch.nn.Conv2d(in, out, k, stride, padding)} with bias: W {@code [out, in, k, k]}, b {@code [out]},
 * initialised as PyTorch does ({@link #torchDefault}). */
final class Conv2dLayer extends DiffusersBlock {
  private final Parameter weight;
  private final Parameter bias;
  private final Shape stride;
  private final Shape padding;

  Conv2dLayer(Map<String, Parameter> names, String name, int in, int out, int kernel, int stride, int padding) {
    long fanIn = (long) in * kernel * kernel;
    weight = param(names, name + ".weight", new Shape(out, in, kernel, kernel), torchDefault(fanIn));
    bias = param(names, name + ".bias", new Shape(out), torchDefault(fanIn));
    this.stride = new Shape(stride, stride);
    this.padding = new Shape(padding, padding);
  }

  NDArray apply(ParameterStore ps, NDArray x) {
    return Conv2d.conv2d(x, value(ps, weight, x), value(ps, bias, x), stride, padding).singletonOrThrow();
  }
}
