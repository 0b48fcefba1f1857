package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual MLP for low-dimensional data, the raw network F of the frame): forward
 * takes {@code NDList(x, cNoise)} or {@code NDList(x, cNoise, labels)} with x {@code [n, …]} (already
 * times c_in), c_noise {@code [n]}, labels int {@code [n]}, and returns {@code NDList(F)} shaped like x.
 *
 * <pre>
 *   e = SiLU(W₂ SiLU(W₁ emb(c_noise)) [+ E(label)])        noise (and class) embedding
 *   h = W_in x
 *   h ← h + W_b SiLU(W_a LN?(h) + U e)                      per residual block
 *   F = W_out SiLU(h)
 * </pre>
 *
 * The last layer of every residual branch starts near zero (gain 1e-5, as EDM's DDPM++), so each
 * block starts as the identity.
 *
 * <p>A {@link MlpConfig#guided() guided} network also takes a guidance scale w per sample as the last
 * input (FLOAT {@code [n]}, after the labels) and adds {@code W_w2 SiLU(W_w1 emb(w))} to e before its
 * SiLU — the w embedding of the students of guided distillation (Meng et al. 2023, "On Distillation of
 * Guided Diffusion Models", §3.1: w enters like the time). W_w2 starts at zero, so a guided network
 * loaded with an unguided network's weights is that network at every w.
 */
public final class Mlp extends FixedBlock {
  private final MlpConfig config;
  private final Dense embed1;
  private final Dense embed2;
  private final ClassEmbedding classEmbedding;
  private final Dense in;
  private final List<Residual> residuals = new ArrayList<>();
  private final Dense out;
  private final Dense guidance1;
  private final Dense guidance2;

  /** A network of the given shape; call {@code initialize(manager, FLOAT32, new Shape(n, dim))}. */
  public Mlp(MlpConfig config) {
    this.config = config;
    int h = config.hidden();
    embed1 = addChildBlock("embed1", new Dense(config.embedDim(), h));
    embed2 = addChildBlock("embed2", new Dense(h, h));
    classEmbedding = config.classes() > 0
        ? addChildBlock("classEmbedding", new ClassEmbedding(config.classes(), h)) : null;
    in = addChildBlock("in", new Dense(config.dim(), h));
    for (int b = 0; b < config.blocks(); b++) {
      residuals.add(addChildBlock("block" + b, new Residual(h, config.layerNorm())));
    }
    out = addChildBlock("out", new Dense(h, config.dim()));
    // Added last, so an unguided network's parameter names are those of its guided twin.
    guidance1 = config.guided() ? addChildBlock("guidance1", new Dense(config.embedDim(), h)) : null;
    guidance2 = config.guided() ? addChildBlock("guidance2", new Dense(h, h, 0)) : null;
  }

  /** The shape this network was built from. */
  public MlpConfig config() {
    return config;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray cNoise = inputs.get(1);
    NDArray w = null;
    if (guidance1 != null) {
      if (inputs.size() < 3 || !inputs.get(inputs.size() - 1).getDataType().isFloating()) {
        throw new IllegalArgumentException("a guided Mlp (guidance range [" + config.guidanceLo() + ", "
            + config.guidanceHi() + "]) needs a guidance scale per sample as its last input, got " + inputs.size()
            + " inputs");
      }
      w = inputs.get(inputs.size() - 1);
      inputs = new NDList(inputs.subList(0, inputs.size() - 1).toArray(new NDArray[0]));
    }
    NDArray labels = ClassEmbedding.labels(inputs, classEmbedding);
    Shape shape = x.getShape();
    long n = shape.get(0);
    if (shape.size() / Math.max(n, 1) != config.dim() || cNoise.getShape().size() != n) {
      throw new IllegalArgumentException("Mlp(dim " + config.dim() + ") expects x [n, " + config.dim()
          + "] and c_noise [n], got " + shape + " and " + cNoise.getShape());
    }
    // Noise (and class) embedding.
    NDArray e = Silu.apply(embed1.apply(ps,
        NoiseEmbedding.embed(config.embedding(), cNoise.reshape(n), config.embedDim()), training));
    e = embed2.apply(ps, e, training);
    if (classEmbedding != null) {
      e = e.add(classEmbedding.apply(ps, labels, x, training));
    }
    if (w != null) {
      if (w.getShape().size() != n) {
        throw new IllegalArgumentException("guidance scale must have shape [" + n + "], got " + w.getShape());
      }
      NDArray ew = NoiseEmbedding.embed(config.embedding(), w.reshape(n), config.embedDim());
      e = e.add(guidance2.apply(ps, Silu.apply(guidance1.apply(ps, ew, training)), training));
    }
    e = Silu.apply(e);
    // Residual trunk.
    NDArray h = in.apply(ps, x.reshape(n, config.dim()), training);
    for (Residual r : residuals) {
      h = r.apply(ps, h, e, training);
    }
    return new NDList(out.apply(ps, Silu.apply(h), training).reshape(shape));
  }

  /** {@code h + W_b SiLU(W_a LN?(h) + U e)}. */
  static final class Residual extends FixedBlock {
    private final Parameter lnGamma;
    private final Parameter lnBeta;
    private final Dense a;
    private final Dense noise;
    private final Dense b;
    private final int width;

    Residual(int width, boolean layerNorm) {
      this.width = width;
      lnGamma = layerNorm ? param("lnGamma", Parameter.Type.GAMMA, new Shape(width), Initializer.ONES) : null;
      lnBeta = layerNorm ? param("lnBeta", Parameter.Type.BETA, new Shape(width), Initializer.ZEROS) : null;
      a = addChildBlock("a", new Dense(width, width));
      noise = addChildBlock("noise", new Dense(width, width));
      b = addChildBlock("b", new Dense(width, width, 1e-5));
    }

    NDArray apply(ParameterStore ps, NDArray h, NDArray e, boolean training) {
      NDArray z = h;
      if (lnGamma != null) {
        z = LayerNorm.layerNorm(h, new Shape(width), ps.getValue(lnGamma, h.getDevice(), training),
            ps.getValue(lnBeta, h.getDevice(), training), 1e-5f).singletonOrThrow();
      }
      z = Silu.apply(a.apply(ps, z, training).add(noise.apply(ps, e, training)));
      return h.add(b.apply(ps, z, training));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
    }
  }
}
