package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A noise-conditional classifier network for low-dimensional data, the trunk of {@link Mlp} with a
 * K-way head: forward takes {@code NDList(x, cNoise)} (x already times c_in) and returns
 * {@code NDList(logits [n, K])}. Time conditioning enters every residual block, as in the noisy
 * classifiers of Dhariwal &amp; Nichol 2021 (§4; the ADM encoder half with a noise embedding).
 */
public final class ClassifierMlp extends FixedBlock {
  private final int dim;
  private final int classes;
  private final int embedDim;
  private final Dense embed1;
  private final Dense embed2;
  private final Dense in;
  private final List<Mlp.Residual> residuals = new ArrayList<>();
  private final Dense out;

  /**
   * @param dim data dimension
   * @param hidden width
   * @param blocks residual blocks
   * @param embedDim noise-embedding width (even, ≥ 4)
   * @param classes K ≥ 2
   */
  public ClassifierMlp(int dim, int hidden, int blocks, int embedDim, int classes) {
    MlpConfig.check(dim >= 1, "dim", dim, "≥ 1");
    MlpConfig.check(hidden >= 1, "hidden", hidden, "≥ 1");
    MlpConfig.check(blocks >= 0, "blocks", blocks, "≥ 0");
    MlpConfig.check(embedDim >= 4 && embedDim % 2 == 0, "embedDim", embedDim, "even and ≥ 4");
    MlpConfig.check(classes >= 2, "classes", classes, "≥ 2");
    this.dim = dim;
    this.classes = classes;
    this.embedDim = embedDim;
    embed1 = addChildBlock("embed1", new Dense(embedDim, hidden));
    embed2 = addChildBlock("embed2", new Dense(hidden, hidden));
    in = addChildBlock("in", new Dense(dim, hidden));
    for (int b = 0; b < blocks; b++) {
      residuals.add(addChildBlock("block" + b, new Mlp.Residual(hidden, false)));
    }
    out = addChildBlock("out", new Dense(hidden, classes));
  }

  /** Number of classes K. */
  public int classes() {
    return classes;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray cNoise = inputs.get(1);
    Shape shape = x.getShape();
    long n = shape.get(0);
    if (shape.size() / Math.max(n, 1) != dim || cNoise.getShape().size() != n) {
      throw new IllegalArgumentException("ClassifierMlp(dim " + dim + ") expects x [n, " + dim + "] and c_noise [n], got "
          + shape + " and " + cNoise.getShape());
    }
    NDArray e = Silu.apply(embed1.apply(ps,
        NoiseEmbedding.embed(NoiseEmbedding.Kind.SINUSOIDAL, cNoise.reshape(n), embedDim), training));
    e = Silu.apply(embed2.apply(ps, e, training));
    NDArray h = in.apply(ps, x.reshape(n, dim), training);
    for (Mlp.Residual r : residuals) {
      h = r.apply(ps, h, e, training);
    }
    return new NDList(out.apply(ps, Silu.apply(h), training));
  }
}
