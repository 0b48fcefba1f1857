package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.train.nn.InferenceMode;

/**
 * A diffusers {@code UNet2DModel} as the frame's denoiser D(x̂; σ) on its scheduler's discrete DDPM process
 * (Karras et al. 2022, eq. 7 with the VP row of Table 1): for σ &gt; 0, {@code α = 1/sqrt(1 + σ²)}, the network
 * sees the VP state {@code x_t = α x̂} at the timestep t(σ) of the {@link TimestepMapping}, and its output F
 * gives {@code D = c_skip x̂ + c_out F} with
 * <ul>
 *   <li>epsilon: {@code D = x̂ − σ F} (Ho et al. 2020);</li>
 *   <li>sample: {@code D = F};</li>
 *   <li>v_prediction: {@code D = α x_t − σ α F = α² x̂ − σ α F} (Salimans &amp; Ho 2022, v = α ε − σ_t x0).</li>
 * </ul>
 * With {@code clip}, D is clipped to [−r, r] (diffusers' DDPM/DDIM {@code clip_sample}). σ = 0 rows return x̂.
 * Class labels of the {@link Conditioning} reach the class embedding; −1 is its null label when the model has
 * one ({@link UNet2DConfig#nullClassLabel}, the models trained here), and is refused otherwise.
 */
public final class DiffusersDenoiser implements Denoiser {
  private final UNet2DModel unet;
  private final DiscreteDdpm process;
  private final double[] sigmaTable;
  private final SchedulerConfig.Prediction prediction;
  private final TimestepMapping mapping;
  private final double clip;

  /**
   * @param clip the clip range r &gt; 0 of the x0-estimate, or {@code Double.NaN} for none
   */
  public DiffusersDenoiser(UNet2DModel unet, DiscreteDdpm process, SchedulerConfig.Prediction prediction,
      TimestepMapping mapping, double clip) {
    if (!Double.isNaN(clip) && !(clip > 0)) {
      throw new IllegalArgumentException("clip range must be > 0, got " + clip);
    }
    this.unet = unet;
    this.process = process;
    this.sigmaTable = process.sigmas();
    this.prediction = prediction;
    this.mapping = mapping;
    this.clip = clip;
  }

  /** The same network with another timestep mapping. */
  public DiffusersDenoiser withMapping(TimestepMapping m) {
    return new DiffusersDenoiser(unet, process, prediction, m, clip);
  }

  /** The same network with another clip range (NaN for none). */
  public DiffusersDenoiser withClip(double range) {
    return new DiffusersDenoiser(unet, process, prediction, mapping, range);
  }

  /** The network. */
  public UNet2DModel unet() {
    return unet;
  }

  /** The discrete process σ and t refer to. */
  public DiscreteDdpm process() {
    return process;
  }

  /** The timestep mapping. */
  public TimestepMapping mapping() {
    return mapping;
  }

  /** The timestep the network is told for noise level σ &gt; 0. */
  public double timestep(double sigma) {
    return mapping.timestep(process, sigmaTable, sigma);
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning conditioning) {
    Shape s = x.getShape();
    int n = Math.toIntExact(s.get(0));
    Denoiser.checkSigma(sigma, n);
    conditioning.requireSize(n);
    if (Arrays.stream(sigma).allMatch(v -> v == 0)) {
      return x.duplicate();
    }
    double[] t = new double[n];
    double[] cIn = new double[n];
    double[] cSkip = new double[n];
    double[] cOut = new double[n];
    for (int i = 0; i < n; i++) {
      double sg = sigma[i];
      if (sg == 0) {
        cIn[i] = 1;
        cSkip[i] = 1;
        continue;
      }
      double a = 1 / Math.sqrt(1 + sg * sg);
      t[i] = timestep(sg);
      cIn[i] = a;
      switch (prediction) {
        case EPSILON:
          cSkip[i] = 1;
          cOut[i] = -sg;
          break;
        case SAMPLE:
          cOut[i] = 1;
          break;
        default:
          cSkip[i] = a * a;
          cOut[i] = -sg * a;
      }
    }
    NDArray result;
    try (NDScope scope = new NDScope(); InferenceMode off = InferenceMode.enter(x)) {
      NDManager m = x.getManager();
      long[] b = new long[s.dimension()];
      Arrays.fill(b, 1);
      b[0] = n;
      Shape bs = new Shape(b);
      DataType type = x.getDataType();
      NDArray in = x.mul(m.create(cIn, bs).toType(type, false)).toType(DataType.FLOAT32, false);
      NDArray f = unet.apply(new ParameterStore(m, false), in, t, conditioning.labels(), false).toType(type, false);
      NDArray d = x.mul(m.create(cSkip, bs).toType(type, false)).add(f.mul(m.create(cOut, bs).toType(type, false)));
      if (!Double.isNaN(clip)) {
        d = d.clip(-clip, clip);
        for (int i = 0; i < n; i++) {
          if (sigma[i] == 0) {
            d.set(new ai.djl.ndarray.index.NDIndex(i), x.get(i));
          }
        }
      }
      result = d;
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }
}
