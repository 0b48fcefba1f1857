package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.Map;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;

/**
 * Cross-entropy of a clean-data classifier (a feature network such as the MNIST one of the metrics)'s logits against the batch's labels, {@code −mean_i log softmax(z_i)[y_i]},
 * with the batch accuracy as a metric. The trained network is the trainable {@code name}'s raw block F,
 * called as {@code F(NDList(x))} → logits {@code [n, K]}; the batch must carry labels.
 */
public final class CrossEntropyLoss implements TrainingLoss {
  private final String name;
  private final int classes;

  /**
   * @param name the trainable network
   * @param classes K ≥ 2
   */
  public CrossEntropyLoss(String name, int classes) {
    if (classes < 2) {
      throw new IllegalArgumentException("a classifier needs >= 2 classes, got " + classes);
    }
    this.name = name;
    this.classes = classes;
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray labels = ctx.batch().labels();
    if (labels == null) {
      throw new IllegalArgumentException("classifier training needs a labelled data set (e.g. mnist:DIR)");
    }
    NDArray logits = ctx.trainable(name).network().forward(ctx.parameters(), new NDList(ctx.batch().x()), true)
        .singletonOrThrow();
    NDArray oneHot = labels.oneHot(classes).toType(DataType.FLOAT32, false);
    NDArray loss = logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean();
    double accuracy = logits.argMax(1).toType(DataType.INT64, false).eq(labels.toType(DataType.INT64, false))
        .toType(DataType.FLOAT32, false).mean().getFloat();
    return new Value(loss, Map.of("accuracy", accuracy));
  }
}
