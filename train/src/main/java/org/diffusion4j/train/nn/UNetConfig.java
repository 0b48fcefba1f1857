package org.diffusion4j.train.nn;

import com.google.gson.annotations.SerializedName;
import java.util.Arrays;

/**
 * The U-Net's shape (see {@link UNet}). Level l works at resolution {@code resolution / 2^l} with
 * {@code baseChannels · multipliers[l]} channels.
 *
 * @param channels image channels C (1 for MNIST, 3 for RGB)
 * @param resolution image height = width; divisible by 2^(levels − 1)
 * @param baseChannels channels of the first level (32); the noise embedding is 4× this
 * @param multipliers per-level channel multipliers ({1, 2, 2})
 * @param blocksPerLevel residual blocks per level on the way down (2; one more on the way up)
 * @param attentionResolutions resolutions with self-attention after each residual block ({7});
 *     each must be a level's resolution. The middle always has one attention layer.
 * @param dropout dropout rate in residual blocks, in [0, 1) (0.1)
 * @param classes number of classes K, 0 for an unconditional network
 * @param heads attention heads (1); must divide the channels of every attention level
 * @param embedding the noise-embedding family (sinusoidal)
 * @param downsample strided 3×3 conv (DDPM) or 2×2 average pooling (conv)
 */
public record UNetConfig(int channels, int resolution, int baseChannels, int[] multipliers,
    int blocksPerLevel, int[] attentionResolutions, double dropout, int classes, int heads,
    NoiseEmbedding.Kind embedding, Downsample downsample) implements NetworkConfig {

  /** How a level halves its resolution; upsampling is always nearest-neighbour then 3×3 conv. */
  public enum Downsample {
    /** A 3×3 convolution with stride 2 (DDPM {@code Downsample(with_conv=True)}). */
    @SerializedName("conv") CONV,
    /** 2×2 average pooling (DDPM {@code Downsample(with_conv=False)}). */
    @SerializedName("pool") POOL
  }

  /** Validates every field and copies the arrays. */
  public UNetConfig {
    MlpConfig.check(channels >= 1, "channels", channels, "≥ 1");
    MlpConfig.check(baseChannels >= 1, "baseChannels", baseChannels, "≥ 1");
    MlpConfig.check(multipliers != null && multipliers.length >= 1, "multipliers",
        Arrays.toString(multipliers), "a non-empty array");
    for (int m : multipliers) {
      MlpConfig.check(m >= 1, "every multiplier", Arrays.toString(multipliers), "≥ 1");
    }
    int down = 1 << (multipliers.length - 1);
    MlpConfig.check(resolution >= down && resolution % down == 0, "resolution", resolution,
        "a positive multiple of 2^(levels − 1) = " + down);
    MlpConfig.check(blocksPerLevel >= 1, "blocksPerLevel", blocksPerLevel, "≥ 1");
    MlpConfig.check(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)");
    MlpConfig.check(classes >= 0, "classes", classes, "≥ 0");
    MlpConfig.check(heads >= 1, "heads", heads, "≥ 1");
    attentionResolutions = attentionResolutions == null ? new int[0] : attentionResolutions.clone();
    multipliers = multipliers.clone();
    for (int r : attentionResolutions) {
      int level = levelOf(resolution, multipliers.length, r);
      MlpConfig.check(level >= 0, "attention resolution", r,
          "one of the level resolutions " + levelResolutions(resolution, multipliers.length));
      MlpConfig.check(baseChannels * multipliers[level] % heads == 0, "heads", heads,
          "a divisor of the " + baseChannels * multipliers[level] + " channels at resolution " + r);
    }
    MlpConfig.check(baseChannels * multipliers[multipliers.length - 1] % heads == 0, "heads", heads,
        "a divisor of the middle's channels");
    if (embedding == null || downsample == null) {
      throw new IllegalArgumentException("embedding (sinusoidal|fourier) and downsample (conv|pool) must be set");
    }
  }

  /** The eight-field form: 1 head, sinusoidal embedding, strided-conv downsampling. */
  public UNetConfig(int channels, int resolution, int baseChannels, int[] multipliers, int blocksPerLevel,
      int[] attentionResolutions, double dropout, int classes) {
    this(channels, resolution, baseChannels, multipliers, blocksPerLevel, attentionResolutions, dropout,
        classes, 1, NoiseEmbedding.Kind.SINUSOIDAL, Downsample.CONV);
  }

  /** MNIST (1×28×28): base 32, multipliers {1, 2, 2} (28, 14, 7), 2 blocks, attention at 7, dropout 0.1. */
  public static UNetConfig mnist() {
    return new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 2, new int[] {7}, 0.1, 0);
  }

  /** MNIST defaults for another image size and channel count (attention at the lowest resolution). */
  public static UNetConfig of(int channels, int resolution) {
    return new UNetConfig(channels, resolution, 32, new int[] {1, 2, 2}, 2, new int[] {resolution / 4},
        0.1, 0);
  }

  /** Levels, {@code multipliers.length}. */
  public int levels() {
    return multipliers.length;
  }

  @Override
  public int[] multipliers() {
    return multipliers.clone();
  }

  @Override
  public int[] attentionResolutions() {
    return attentionResolutions.clone();
  }

  /** Whether level resolution r has attention. */
  boolean attentionAt(int r) {
    return Arrays.stream(attentionResolutions).anyMatch(a -> a == r);
  }

  @Override
  public String type() {
    return "unet";
  }

  @Override
  public UNet build() {
    return new UNet(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UNetConfig c && channels == c.channels && resolution == c.resolution
        && baseChannels == c.baseChannels && Arrays.equals(multipliers, c.multipliers)
        && blocksPerLevel == c.blocksPerLevel && Arrays.equals(attentionResolutions, c.attentionResolutions)
        && Double.compare(dropout, c.dropout) == 0 && classes == c.classes && heads == c.heads
        && embedding == c.embedding && downsample == c.downsample;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(new Object[] {channels, resolution, baseChannels, Arrays.hashCode(multipliers),
        blocksPerLevel, Arrays.hashCode(attentionResolutions), dropout, classes, heads, embedding, downsample});
  }

  @Override
  public String toString() {
    return "UNetConfig[channels=" + channels + ", resolution=" + resolution + ", baseChannels=" + baseChannels
        + ", multipliers=" + Arrays.toString(multipliers) + ", blocksPerLevel=" + blocksPerLevel
        + ", attentionResolutions=" + Arrays.toString(attentionResolutions) + ", dropout=" + dropout
        + ", classes=" + classes + ", heads=" + heads + ", embedding=" + embedding
        + ", downsample=" + downsample + "]";
  }

  private static int levelOf(int resolution, int levels, int r) {
    for (int l = 0; l < levels; l++) {
      if (resolution >> l == r) {
        return l;
      }
    }
    return -1;
  }

  private static String levelResolutions(int resolution, int levels) {
    int[] r = new int[levels];
    for (int l = 0; l < levels; l++) {
      r[l] = resolution >> l;
    }
    return Arrays.toString(r);
  }
}
