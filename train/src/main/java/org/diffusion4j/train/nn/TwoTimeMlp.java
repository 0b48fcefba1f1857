package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * An MLP with two times, the network of a flow-map model u(z, r, t) (Geng et al. 2025, Mean Flows;
 * Kim et al. 2024, CTM): forward takes {@code NDList(x, t)}, {@code NDList(x, t, r)} or either with
 * labels (INT64) last; x {@code [n, D]}, t and r {@code [n]} floating point. The second time enters as
 * the extra input feature t − r next to x (zero when r is absent, i.e. r = t, so the two-input call is
 * the instantaneous model), t through the {@link Mlp}'s noise embedding; the output is F's first D
 * features, shaped like x.
 */
public final class TwoTimeMlp extends FixedBlock implements TwoTimeNetwork {
  private final MlpConfig config;
  private final Mlp mlp;

  /**
   * @param config the shape for data dimension D; the inner MLP takes D + 1 inputs
   */
  public TwoTimeMlp(MlpConfig config) {
    this.config = config;
    this.mlp = addChildBlock("mlp", new Mlp(new MlpConfig(config.dim() + 1, config.hidden(), config.blocks(),
        config.embedDim(), config.classes(), config.layerNorm(), config.embedding())));
  }

  /** The shape for D. */
  public MlpConfig config() {
    return config;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    if (x.getShape().dimension() != 2 || x.getShape().get(1) != config.dim()) {
      throw new IllegalArgumentException("two-time MLP: x must be [n, " + config.dim() + "], got " + x.getShape());
    }
    NDArray t = inputs.get(1);
    NDArray r = null;
    NDArray labels = null;
    for (int i = 2; i < inputs.size(); i++) {
      NDArray a = inputs.get(i);
      if (a.getDataType() == DataType.INT64 || a.getDataType() == DataType.INT32) {
        labels = a;
      } else {
        r = a;
      }
    }
    NDArray gap = r == null ? t.zerosLike() : t.sub(r);
    NDArray in = x.concat(gap.reshape(-1, 1).toType(x.getDataType(), false), 1);
    NDList list = labels == null ? new NDList(in, t) : new NDList(in, t, labels);
    NDArray f = mlp.forward(ps, list, training).singletonOrThrow();
    return new NDList(f.get(":, 0:" + config.dim()));
  }
}
