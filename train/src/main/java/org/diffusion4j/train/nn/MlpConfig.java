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
 */
public record MlpConfig(int dim, int hidden, int blocks, int embedDim, int classes, boolean layerNorm,
    NoiseEmbedding.Kind embedding) implements NetworkConfig {

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
  }

  /** The five-field form: no LayerNorm, sinusoidal embedding. */
  public MlpConfig(int dim, int hidden, int blocks, int embedDim, int classes) {
    this(dim, hidden, blocks, embedDim, classes, false, NoiseEmbedding.Kind.SINUSOIDAL);
  }

  /** Defaults for low-dimensional toys: hidden 256, 4 blocks, embedding 64, unconditional. */
  public static MlpConfig toy(int dim) {
    return new MlpConfig(dim, 256, 4, 64, 0);
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
