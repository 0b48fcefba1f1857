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

  /** Adds a parameter of a fixed shape and enters it in {@code names} as {@code name}. */
  protected final Parameter param(Map<String, Parameter> names, String name, Shape shape) {
    String local = name.substring(name.lastIndexOf('.') + 1);
    Parameter p = addParameter(Parameter.builder().setName(local)
        .setType(local.equals("bias") ? Parameter.Type.BIAS : Parameter.Type.WEIGHT).optShape(shape)
        .optInitializer(Initializer.ZEROS).build());
    if (names.put(name, p) != null) {
      throw new IllegalStateException("duplicate parameter name " + name);
    }
    return p;
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
