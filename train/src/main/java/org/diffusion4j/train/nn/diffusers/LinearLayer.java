package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import java.util.Map;

/** {@code torch.nn.Linear(in, out)}: {@code y = x Wᵀ + b} on the last axis, W {@code [out, in]},
 * initialised as PyTorch does ({@link #torchDefault}). */
final class LinearLayer extends DiffusersBlock {
  private final Parameter weight;
  private final Parameter bias;

  LinearLayer(Map<String, Parameter> names, String name, int in, int out) {
    weight = param(names, name + ".weight", new Shape(out, in), torchDefault(in));
    bias = param(names, name + ".bias", new Shape(out), torchDefault(in));
  }

  NDArray apply(ParameterStore ps, NDArray x) {
    return Linear.linear(x, value(ps, weight, x), value(ps, bias, x)).singletonOrThrow();
  }
}
