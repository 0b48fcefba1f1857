package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/** A fully connected layer {@code y = x Wᵀ + b} on the last axis, W {@code [out, in]} Xavier-uniform, b zero. */
final class Dense extends FixedBlock {
  private final Parameter weight;
  private final Parameter bias;

  Dense(int in, int out) {
    this(in, out, 1);
  }

  Dense(int in, int out, double gain) {
    weight = param("weight", Parameter.Type.WEIGHT, new Shape(out, in), Init.xavierUniform(gain));
    bias = param("bias", Parameter.Type.BIAS, new Shape(out), Initializer.ZEROS);
  }

  NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    return Linear.linear(x, ps.getValue(weight, x.getDevice(), training),
        ps.getValue(bias, x.getDevice(), training)).singletonOrThrow();
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.singletonOrThrow(), training));
  }
}
