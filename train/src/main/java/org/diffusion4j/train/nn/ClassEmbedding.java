package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A learned embedding table of {@code classes + 1} rows: rows 0…K−1 for the class labels and row K
 * the learned null label ∅ used when no label is given (classifier-free guidance, Ho &amp; Salimans
 * 2022). Labels are looked up as {@code oneHot(labels)·E} so gradients reach the table.
 */
final class ClassEmbedding extends FixedBlock {
  private final int classes;
  private final Parameter table;

  ClassEmbedding(int classes, int width) {
    this.classes = classes;
    table = param("table", Parameter.Type.WEIGHT, new Shape(classes + 1, width), Init.xavierUniform(1));
  }

  /** The optional third input of a network, checked against the network having a class embedding. */
  static NDArray labels(NDList inputs, ClassEmbedding embedding) {
    NDArray labels = inputs.size() > 2 ? inputs.get(2) : null;
    if (labels != null && embedding == null) {
      throw new IllegalArgumentException("labels given to an unconditional network (classes = 0)");
    }
    return labels;
  }

  /**
   * @param labels int labels {@code [n]} in 0…K−1, or K or −1 for the null label ∅; null for all-null
   * @param like a batch array whose manager and size n the result takes
   */
  NDArray apply(ParameterStore ps, NDArray labels, NDArray like, boolean training) {
    long n = like.getShape().get(0);
    NDArray e = ps.getValue(table, like.getDevice(), training);
    if (labels == null) {
      // No labels: every row is ∅.
      labels = like.getManager().full(new Shape(n), classes, DataType.INT64);
    } else {
      long[] values = labels.toType(DataType.INT64, false).toLongArray();
      if (values.length != n) {
        throw new IllegalArgumentException("labels must have shape [" + n + "], got " + labels.getShape());
      }
      boolean remap = false;
      for (int i = 0; i < values.length; i++) {
        long v = values[i];
        if (v < -1 || v > classes) {
          throw new IllegalArgumentException("class label " + v + " outside 0…" + (classes - 1)
              + " (−1 or " + classes + " = the null label)");
        }
        if (v == -1) {
          values[i] = classes;
          remap = true;
        }
      }
      if (remap) {
        labels = FixedBlock.local(like.getManager().create(values), like);
      }
    }
    NDArray index = labels.toType(DataType.INT64, false);
    if (index != labels) {
      FixedBlock.local(index, like);
    }
    return FixedBlock.local(index.oneHot(classes + 1), like).toType(e.getDataType(), false).matMul(e);
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray labels = inputs.singletonOrThrow();
    return new NDList(apply(ps, labels, labels, training));
  }
}
