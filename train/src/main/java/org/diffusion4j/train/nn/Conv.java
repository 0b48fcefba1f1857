package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * A 2-D convolution with a k×k kernel, "same" padding k/2 and the given stride; W {@code [out, in, k, k]}
 * Xavier-uniform times a gain, b zero.
 */
final class Conv extends FixedBlock {
  private final Parameter weight;
  private final Parameter bias;
  private final Shape stride;
  private final Shape padding;

  Conv(int in, int out, int kernel, int stride, double gain) {
    weight = param("weight", Parameter.Type.WEIGHT, new Shape(out, in, kernel, kernel),
        Init.xavierUniform(gain));
    bias = param("bias", Parameter.Type.BIAS, new Shape(out), Initializer.ZEROS);
    this.stride = new Shape(stride, stride);
    this.padding = new Shape(kernel / 2, kernel / 2);
  }

  NDArray apply(ParameterStore ps, NDArray x, boolean training) {
    return Conv2d.conv2d(x, ps.getValue(weight, x.getDevice(), training),
        ps.getValue(bias, x.getDevice(), training), stride, padding).singletonOrThrow();
  }

  /** W's array: as long-lived as the network (the owner of its {@link org.diffusion4j.tensor.Scalars.Constant}s). */
  NDArray weightArray() {
    return weight.getArray();
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    return new NDList(apply(ps, inputs.singletonOrThrow(), training));
  }
}
