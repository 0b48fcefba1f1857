package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A small MNIST classifier in the LeNet line (LeCun et al. 1998): two 3×3 convolutions (16 and 32
 * channels, ReLU, 2×2 max-pooling) and a 128-unit ReLU layer, then 10 logits. Its 128 penultimate
 * activations are the feature space of the project's MNIST sample-quality metrics. Input
 * {@code [n, 1, 28, 28]} on [−1, 1]; about 206 000 parameters.
 */
public final class MnistCnn extends FixedBlock {
  /** Width of the feature layer. */
  public static final int FEATURES = 128;
  /** Number of classes. */
  public static final int CLASSES = 10;

  private final Conv conv1;
  private final Conv conv2;
  private final Dense hidden;
  private final Dense head;

  /** A new, uninitialised classifier (initialise with {@code initialize(manager, FLOAT32, [1,1,28,28])}). */
  public MnistCnn() {
    conv1 = addChildBlock("conv1", new Conv(1, 16, 3, 1, 1));
    conv2 = addChildBlock("conv2", new Conv(16, 32, 3, 1, 1));
    hidden = addChildBlock("hidden", new Dense(32 * 7 * 7, FEATURES));
    head = addChildBlock("head", new Dense(FEATURES, CLASSES));
  }

  /** The penultimate activations {@code [n, 128]}. */
  public NDArray features(ParameterStore ps, NDArray x, boolean training) {
    Shape s = x.getShape();
    if (s.dimension() != 4 || s.get(1) != 1 || s.get(2) != 28 || s.get(3) != 28) {
      throw new IllegalArgumentException("the MNIST classifier takes images [n, 1, 28, 28], got " + s);
    }
    NDArray h = Pool.maxPool2d(Activation.relu(conv1.apply(ps, x, training)), new Shape(2, 2),
        new Shape(2, 2), new Shape(0, 0), false);
    h = Pool.maxPool2d(Activation.relu(conv2.apply(ps, h, training)), new Shape(2, 2), new Shape(2, 2),
        new Shape(0, 0), false);
    return Activation.relu(hidden.apply(ps, h.reshape(s.get(0), 32 * 7 * 7), training));
  }

  /** Class logits {@code [n, 10]} from features. */
  public NDArray logits(ParameterStore ps, NDArray features, boolean training) {
    return head.apply(ps, features, training);
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(logits(ps, features(ps, inputs.head(), training), training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), CLASSES)};
  }
}
