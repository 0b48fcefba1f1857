package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;

/**
 * A block whose parameter shapes are fixed by its constructor, so that {@code initialize} needs no
 * shape inference: every child is initialised as is, whatever input shapes are passed. The networks
 * of this package are built from such blocks; {@code block.initialize(manager, FLOAT32, xShape)}
 * initialises a whole tree.
 */
abstract class FixedBlock extends AbstractBlock {

  /** Adds a parameter of a fixed shape. */
  protected final Parameter param(String name, Parameter.Type type, Shape shape, Initializer init) {
    return addParameter(Parameter.builder().setName(name).setType(type).optShape(shape)
        .optInitializer(init).build());
  }

  /**
   * Moves {@code a}, the result of an op whose first operand was a parameter (and which DJL therefore
   * attached to the parameters' long-lived manager), to the manager of the batch array {@code like},
   * so that it is freed with the step.
   */
  static NDArray local(NDArray a, NDArray like) {
    a.attach(like.getManager());
    return a;
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
}
