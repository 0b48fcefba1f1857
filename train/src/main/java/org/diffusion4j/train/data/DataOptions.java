package org.diffusion4j.train.data;

/**
 * How file data sets are read.
 *
 * @param resolution image side after resizing the shorter side and centre-cropping (images:DIR), &gt; 0;
 *     default 32
 * @param flip random horizontal flip of image samples (probability ½); default off
 * @param channels image channels: 1 (grey), 3 (RGB) or 0 to choose from the files (grey only if all
 *     are grey); default 0
 * @param scaling scaling of numeric files (npy, npz, csv); default {@link Scaling#AUTO}
 */
public record DataOptions(int resolution, boolean flip, int channels, Scaling scaling) {

  /** Scaling of numeric arrays. Images and MNIST are always mapped to [−1, 1]. */
  public enum Scaling {
    /** uint8 arrays to [−1, 1] by x/127.5 − 1; others as stored. */
    AUTO,
    /** As stored. */
    NONE,
    /** Global min–max to [−1, 1]. */
    MINUS_ONE_ONE,
    /** Global zero mean and unit standard deviation. */
    STANDARDIZE
  }

  public DataOptions {
    if (resolution < 1) {
      throw new IllegalArgumentException("resolution " + resolution + " must be >= 1");
    }
    if (channels != 0 && channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels " + channels + " must be 0 (auto), 1 or 3");
    }
    if (scaling == null) {
      throw new IllegalArgumentException("scaling must be one of AUTO, NONE, MINUS_ONE_ONE, STANDARDIZE");
    }
  }

  /** Resolution 32, no flip, channels from the files, automatic scaling. */
  public static DataOptions defaults() {
    return new DataOptions(32, false, 0, Scaling.AUTO);
  }

  /** A copy with another resolution. */
  public DataOptions withResolution(int r) {
    return new DataOptions(r, flip, channels, scaling);
  }

  /** A copy with flipping on or off. */
  public DataOptions withFlip(boolean f) {
    return new DataOptions(resolution, f, channels, scaling);
  }

  /** A copy with another channel count. */
  public DataOptions withChannels(int c) {
    return new DataOptions(resolution, flip, c, scaling);
  }

  /** A copy with another scaling. */
  public DataOptions withScaling(Scaling s) {
    return new DataOptions(resolution, flip, channels, s);
  }
}
