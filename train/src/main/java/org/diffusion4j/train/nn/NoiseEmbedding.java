package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.annotations.SerializedName;
import java.util.Random;

/**
 * Embeddings of the network's noise input {@code c_noise}):
 * {@code [n] → [n, dim]}.
 *
 * <ul>
 *   <li>{@link Kind#SINUSOIDAL} — the Transformer position embedding used by DDPM (Ho et al. 2020
 *       §4; Vaswani et al. 2017 §3.5): {@code [sin(c f_k), cos(c f_k)]}, {@code f_k = 10000^(−k/(h−1))},
 *       k = 0…h−1, h = dim/2. Made for c_noise spread over [0, 1000] (VP legacy: 999·t); it also
 *       serves the O(1) c_noise of EDM (¼ ln σ) and flow (t).</li>
 *   <li>{@link Kind#FOURIER} — random Fourier features of NCSN++ (Song et al. 2021, "Gaussian Fourier
 *       projection"; Tancik et al. 2020): {@code [sin(2π f_k c), cos(2π f_k c)]}, {@code f_k ~ N(0, 16²)}
 *       fixed (not trained), drawn from {@code java.util.Random(0)} so a saved network reloads
 *       identically. Made for c_noise = ln σ or ¼ ln σ.</li>
 * </ul>
 */
public final class NoiseEmbedding {
  private NoiseEmbedding() {}

  /** The embedding families. */
  public enum Kind {
    /** DDPM's sinusoidal position embedding. */
    @SerializedName("sinusoidal") SINUSOIDAL,
    /** NCSN++'s random Fourier features (scale 16). */
    @SerializedName("fourier") FOURIER
  }

  /** NCSN++'s Fourier scale. */
  public static final double FOURIER_SCALE = 16;

  /** The embedding of kind {@code kind}; {@code dim} even and ≥ 4. */
  public static NDArray embed(Kind kind, NDArray cNoise, int dim) {
    switch (kind) {
      case SINUSOIDAL:
        return sinusoidal(cNoise, dim);
      case FOURIER:
        return fourier(cNoise, dim, FOURIER_SCALE, 0);
      default:
        throw new AssertionError(kind);
    }
  }

  /** DDPM sinusoidal embedding, max period 10000. */
  public static NDArray sinusoidal(NDArray cNoise, int dim) {
    int half = checkDim(dim);
    float[] f = new float[half];
    for (int k = 0; k < half; k++) {
      f[k] = (float) Math.exp(-Math.log(10000) * k / (half - 1));
    }
    return sinCos(cNoise, f);
  }

  /** Random Fourier features with frequencies {@code N(0, scale²)} from {@code Random(seed)}, times 2π. */
  public static NDArray fourier(NDArray cNoise, int dim, double scale, long seed) {
    int half = checkDim(dim);
    Random random = new Random(seed);
    float[] f = new float[half];
    for (int k = 0; k < half; k++) {
      f[k] = (float) (2 * Math.PI * scale * random.nextGaussian());
    }
    return sinCos(cNoise, f);
  }

  private static NDArray sinCos(NDArray cNoise, float[] f) {
    if (cNoise.getShape().dimension() != 1) {
      throw new IllegalArgumentException("c_noise must have shape [n], got " + cNoise.getShape());
    }
    NDManager m = cNoise.getManager();
    NDArray c = cNoise.toType(DataType.FLOAT32, false).expandDims(1);
    NDArray arg = c.mul(m.create(f).expandDims(0));
    return arg.sin().concat(arg.cos(), 1);
  }

  private static int checkDim(int dim) {
    if (dim < 4 || dim % 2 != 0) {
      throw new IllegalArgumentException("embedding dimension must be even and ≥ 4, got " + dim);
    }
    return dim / 2;
  }
}
