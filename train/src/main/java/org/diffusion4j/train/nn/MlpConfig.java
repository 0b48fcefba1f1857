package org.diffusion4j.train.nn;

/**
 * The MLP denoiser's shape (see {@link Mlp}).
 *
 * @param dim data dimension D (the product of the trailing dims of x)
 * @param hidden width of every hidden layer (256)
 * @param blocks number of residual blocks (4)
 * @param embedDim width of the noise embedding before its MLP (64); even, ≥ 4
 * @param classes number of classes K, 0 for an unconditional network
 * @param layerNorm LayerNorm at the head of every residual block (false)
 * @param embedding the noise-embedding family (sinusoidal)
 * @param guidanceLo the lowest guidance scale w of a guidance-conditioned network (see {@link #guided()})
 * @param guidanceHi the highest; {@code guidanceHi > guidanceLo} gives the network a w embedding (the
 *     students of guided distillation, Meng et al. 2023), equal values (0, 0: the default) none
 */
public record MlpConfig(int dim, int hidden, int blocks, int embedDim, int classes, boolean layerNorm,
    NoiseEmbedding.Kind embedding, double guidanceLo, double guidanceHi) implements NetworkConfig {

  /** Validates every field. */
  public MlpConfig {
    check(dim >= 1, "dim", dim, "≥ 1");
    check(hidden >= 1, "hidden", hidden, "≥ 1");
    check(blocks >= 0, "blocks", blocks, "≥ 0");
    check(embedDim >= 4 && embedDim % 2 == 0, "embedDim", embedDim, "even and ≥ 4");
    check(classes >= 0, "classes", classes, "≥ 0");
    if (embedding == null) {
      throw new IllegalArgumentException("embedding must be one of sinusoidal, fourier");
    }
    if (!Double.isFinite(guidanceLo) || !Double.isFinite(guidanceHi) || guidanceHi < guidanceLo) {
      throw new IllegalArgumentException("guidance range [" + guidanceLo + ", " + guidanceHi
          + "] must be finite with lo <= hi");
    }
  }

  /** Without a guidance embedding. */
  public MlpConfig(int dim, int hidden, int blocks, int embedDim, int classes, boolean layerNorm,
      NoiseEmbedding.Kind embedding) {
    this(dim, hidden, blocks, embedDim, classes, layerNorm, embedding, 0, 0);
  }

  /** The five-field form: no LayerNorm, sinusoidal embedding. */
  public MlpConfig(int dim, int hidden, int blocks, int embedDim, int classes) {
    this(dim, hidden, blocks, embedDim, classes, false, NoiseEmbedding.Kind.SINUSOIDAL);
  }

  /** Defaults for low-dimensional toys: hidden 256, 4 blocks, embedding 64, unconditional. */
  public static MlpConfig toy(int dim) {
    return new MlpConfig(dim, 256, 4, 64, 0);
  }

  /** Whether the network takes a guidance scale w per sample (a w embedding; range lo &lt; hi). */
  public boolean guided() {
    return guidanceHi > guidanceLo;
  }

  /** This shape with a guidance embedding trained on w ∈ [lo, hi], lo &lt; hi. */
  public MlpConfig withGuidance(double lo, double hi) {
    if (!(hi > lo)) {
      throw new IllegalArgumentException("guidance range [" + lo + ", " + hi + "] must have lo < hi");
    }
    return new MlpConfig(dim, hidden, blocks, embedDim, classes, layerNorm, embedding, lo, hi);
  }

  /** The JSON form; the guidance range only when the network is {@link #guided()}. */
  @Override
  public String toJson() {
    com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(NetworkConfig.super.toJson())
        .getAsJsonObject();
    if (!guided()) {
      o.remove("guidanceLo");
      o.remove("guidanceHi");
    }
    return Json.GSON.toJson(o);
  }

  @Override
  public String type() {
    return "mlp";
  }

  @Override
  public Mlp build() {
    return new Mlp(this);
  }

  static void check(boolean ok, String name, Object value, String range) {
    if (!ok) {
      throw new IllegalArgumentException(name + " must be " + range + ", got " + value);
    }
  }
}
