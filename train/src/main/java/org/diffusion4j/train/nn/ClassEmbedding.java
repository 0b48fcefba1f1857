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
 * 2022; SPEC NET-03). Labels are looked up as {@code oneHot(labels)·E} so gradients reach the table.
 */
final class ClassEmbedding extends FixedBlock {
  private final int classes;
  private final Parameter table;

  ClassEmbedding(int classes, int width) {
    this.classes = classes;
    table = param("table", Parameter.Type.WEIGHT, new Shape(classes + 1, width), Init.xavierUniform(1));
  }

  /**
   * @param labels int labels {@code [n]} in 0…K (K = the null label), or null for all-null
   * @param n the batch size
   */
  NDArray apply(ParameterStore ps, NDArray labels, long n, ai.djl.Device device, boolean training) {
    NDArray e = ps.getValue(table, device, training);
    if (labels == null) {
      // No labels: every row is ∅.
      return e.get(classes).expandDims(0).repeat(0, n);
    }
    int[] values = labels.toType(DataType.INT32, false).toIntArray();
    if (values.length != n) {
      throw new IllegalArgumentException("labels must have shape [" + n + "], got " + labels.getShape());
    }
    for (int v : values) {
      if (v < 0 || v > classes) {
        throw new IllegalArgumentException("class label " + v + " outside 0…" + classes
            + " (" + classes + " = the null label)");
      }
    }
    return labels.toType(DataType.INT64, false).oneHot(classes + 1).toType(e.getDataType(), false).matMul(e);
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray labels = inputs.singletonOrThrow();
    return new NDList(apply(ps, labels, labels.getShape().get(0), labels.getDevice(), training));
  }
}
