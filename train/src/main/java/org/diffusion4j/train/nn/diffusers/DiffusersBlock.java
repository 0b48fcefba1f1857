package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.Map;
import org.diffusion4j.train.nn.GroupNorm;

/**
 * A part of the diffusers U-Net: a block with fixed parameter shapes whose parameters are also entered,
 * under diffusers' own tensor names (e.g. {@code down_blocks.0.resnets.0.conv1.weight}), into the model's
 * name table, which the checkpoint loader fills. Parts are applied through their typed {@code apply}
 * methods; only {@link UNet2DModel} is a block to call through {@code forward}.
 */
abstract class DiffusersBlock extends AbstractBlock {

  /**
   * Adds a parameter of a fixed shape and enters it in {@code names} as {@code name}.
   *
   * @param init how a freshly built network (one that is trained, not loaded) starts
   */
  protected final Parameter param(Map<String, Parameter> names, String name, Shape shape, Initializer init) {
    String local = name.substring(name.lastIndexOf('.') + 1);
    Parameter p = addParameter(Parameter.builder().setName(local)
        .setType(local.equals("bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT).optShape(shape)
        .optInitializer(init).build());
    if (names.put(name, p) != null) {
      throw new IllegalStateException("duplicate parameter name " + name);
    }
    return p;
  }

  /**
   * PyTorch's default initialisation of {@code nn.Conv2d} and {@code nn.Linear} weights and biases, which
   * diffusers' {@code UNet2DModel} keeps: {@code kaiming_uniform_(a = √5)} for the weight, i.e.
   * {@code U(−b, b)} with {@code b = gain·sqrt(3/fan_in)}, {@code gain = sqrt(2/(1 + a²))}, so
   * {@code b = 1/sqrt(fan_in)} (He et al. 2015, eq. 10, with PyTorch's choice a = √5); the bias is
   * {@code U(−1/sqrt(fan_in), 1/sqrt(fan_in))} too. {@code fanIn} is the layer's input width times its
   * kernel area.
   */
  static Initializer torchDefault(long fanIn) {
    float bound = (float) (1 / Math.sqrt(fanIn));
    return (manager, shape, dataType) -> manager.randomUniform(-bound, bound, shape, dataType);
  }

  /** PyTorch's {@code nn.Embedding} initialisation: {@code N(0, 1)}. */
  static Initializer standardNormal() {
    return (manager, shape, dataType) -> manager.randomNormal(0, 1, shape, dataType);
  }

  /** A GroupNorm child whose γ, β are diffusers' {@code name.weight}, {@code name.bias}. */
  protected final GroupNorm groupNorm(Map<String, Parameter> names, String name, int groups, int channels,
      double eps) {
    GroupNorm g = addChildBlock(name.substring(name.lastIndexOf('.') + 1), new GroupNorm(groups, channels, (float) eps));
    names.put(name + ".weight", g.gamma());
    names.put(name + ".bias", g.beta());
    return g;
  }

  /** GroupNorm's forward through the public block interface. */
  static NDArray norm(GroupNorm g, ParameterStore ps, NDArray x) {
    return g.forward(ps, new NDList(x), false).singletonOrThrow();
  }

  /** {@code SiLU(g(x))} in one fused call on PyTorch ({@link GroupNorm#applySilu}). */
  static NDArray normSilu(GroupNorm g, ParameterStore ps, NDArray x) {
    return g.applySilu(ps, x, false);
  }

  /** The value of a parameter, on x's device. */
  static NDArray value(ParameterStore ps, Parameter p, NDArray x) {
    return ps.getValue(p, x.getDevice(), false);
  }

  @Override
  protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
    for (Pair<String, Block> child : getChildren()) {
      child.getValue().initialize(manager, dataType, inputShapes);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " is applied by UNet2DModel");
  }
}
