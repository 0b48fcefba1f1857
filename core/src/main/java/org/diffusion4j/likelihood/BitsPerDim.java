package org.diffusion4j.likelihood;

import java.util.SplittableRandom;

/**
 * Bits per dimension as the Score-SDE code reports them for 8-bit images (Song et al. 2021; Ho et al.
 * 2020, §4): pixels k ∈ {0 … 255} on the [−1, 1] scale are dequantised uniformly,
 * {@code y = (k + u)/128 − 1}, u ~ U[0, 1); a density on y gives the discrete model
 * {@code P(k) = ∫_bin p(y) dy ≥ exp(E_u log p(y))·(1/128)^D}, so
 * {@code bpd = NLL_y/(D ln 2) + log₂ 128 = NLL_y/(D ln 2) + 7}.
 */
public final class BitsPerDim {
  /** {@code log₂ 128}: the width of one of 256 bins on [−1, 1] is 1/128. */
  public static final double EIGHT_BIT_OFFSET = 7;

  private BitsPerDim() {}

  /** {@code nll/(D ln 2)}: nats of a continuous density to bits per dimension. */
  public static double continuous(double nllNats, int dims) {
    if (dims < 1) {
      throw new IllegalArgumentException("dimension must be >= 1, got " + dims);
    }
    return nllNats / (dims * Math.log(2));
  }

  /** Bits per dimension of 8-bit data from the NLL (nats) of its dequantised [−1, 1] version. */
  public static double eightBit(double nllNats, int dims) {
    return continuous(nllNats, dims) + EIGHT_BIT_OFFSET;
  }

  /**
   * Uniform dequantisation of 8-bit data stored on [−1, 1] (pixel k as {@code k/127.5 − 1}):
   * {@code y = (k + u)/128 − 1}; point p's noise comes from a generator seeded by (seed, row[p]).
   *
   * @param x n points row-major, each value within 1e-3 of a level k/127.5 − 1
   * @param d dimension
   */
  public static double[] dequantize(double[] x, int d, long[] rows, long seed) {
    if (x.length != rows.length * d) {
      throw new IllegalArgumentException("expected " + rows.length + "·" + d + " values, got " + x.length);
    }
    double[] y = new double[x.length];
    for (int p = 0; p < rows.length; p++) {
      SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + rows[p]);
      for (int j = 0; j < d; j++) {
        int i = p * d + j;
        double level = (x[i] + 1) * 127.5;
        long k = Math.round(level);
        if (!(Math.abs(level - k) < 0.13) || k < 0 || k > 255) {
          throw new IllegalArgumentException("value " + x[i] + " at point " + p + ", coordinate " + j
              + " is not an 8-bit level k/127.5 - 1 (k in 0..255); is the data 8-bit on [-1, 1]?");
        }
        y[i] = (k + rng.nextDouble()) / 128 - 1;
      }
    }
    return y;
  }
}
