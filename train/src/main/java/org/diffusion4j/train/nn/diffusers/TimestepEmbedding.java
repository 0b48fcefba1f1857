package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.diffusion4j.train.nn.Silu;

/**
 * The time embedding of the DDPM U-Net (Ho et al. 2020, App. B, after Vaswani et al. 2017 §3.5):
 * sinusoids of the timestep ({@link #sinusoidal}, diffusers' {@code Timesteps}) followed by
 * {@code linear_2(SiLU(linear_1(·)))} (diffusers' {@code TimestepEmbedding}).
 */
final class TimestepEmbedding extends DiffusersBlock {
  private final LinearLayer linear1;
  private final LinearLayer linear2;

  TimestepEmbedding(Map<String, Parameter> names, String name, int in, int width) {
    linear1 = addChildBlock("linear_1", new LinearLayer(names, name + ".linear_1", in, width));
    linear2 = addChildBlock("linear_2", new LinearLayer(names, name + ".linear_2", width, width));
  }

  NDArray apply(ParameterStore ps, NDArray x) {
    return linear2.apply(ps, Silu.apply(linear1.apply(ps, x)));
  }

  /**
   * diffusers' {@code get_timestep_embedding} with max period 10 000, in float32 as PyTorch computes it:
   * with {@code h = dim/2}, {@code f_i = exp(−ln(10000)·i/(h − shift))}, i = 0..h−1, the row of timestep t is
   * {@code [sin(t f_0..t f_{h−1}), cos(t f_0..t f_{h−1})]}, halves swapped when {@code flipSinToCos}, and a
   * zero column appended when dim is odd.
   *
   * @param t timesteps (integer or fractional), one per row
   * @param dim embedding width
   * @param flipSinToCos cosines first
   * @param shift {@code downscale_freq_shift} (0 or 1 in practice)
   */
  static float[] sinusoidal(double[] t, int dim, boolean flipSinToCos, double shift) {
    int half = dim / 2;
    float[] freq = new float[half];
    float logPeriod = (float) -Math.log(10000);
    float denominator = (float) (half - shift);
    for (int i = 0; i < half; i++) {
      freq[i] = (float) Math.exp((logPeriod * i) / denominator);
    }
    float[] out = new float[t.length * dim];
    for (int r = 0; r < t.length; r++) {
      float tr = (float) t[r];
      int sinAt = r * dim + (flipSinToCos ? half : 0);
      int cosAt = r * dim + (flipSinToCos ? 0 : half);
      for (int i = 0; i < half; i++) {
        float a = tr * freq[i];
        out[sinAt + i] = (float) Math.sin(a);
        out[cosAt + i] = (float) Math.cos(a);
      }
    }
    return out;
  }

  /** {@link #sinusoidal} as a float32 array {@code [n, dim]} in {@code manager}. */
  static NDArray sinusoidal(NDManager manager, double[] t, int dim, boolean flipSinToCos, double shift) {
    return manager.create(sinusoidal(t, dim, flipSinToCos, shift), new Shape(t.length, dim));
  }
}
