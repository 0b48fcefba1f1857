package org.diffusion4j.train.nn.diffusers;

import java.util.Locale;
import org.diffusion4j.process.DiscreteDdpm;

/**
 * How a noise level σ becomes the training timestep t a discrete-time network is told. diffusers' schedulers
 * differ here: on their own integer grids every choice gives the grid's timesteps, but between table entries
 * <ul>
 *   <li>{@link #CONTINUOUS}: t fractional, log σ interpolated linearly between the table entries — the
 *       process's own {@code sigmaInv}, k-diffusion's {@code DiscreteSchedule.sigma_to_t}, diffusers'
 *       {@code _sigma_to_t} as Euler-type schedulers use it with Karras σ's;</li>
 *   <li>{@link #ROUNDED}: that t rounded to the nearest integer — DPMSolverMultistep/UniPC/DEIS with
 *       {@code use_karras_sigmas}, which evaluate the network at {@code round(_sigma_to_t(σ))};</li>
 *   <li>{@link #LINEAR}: t fractional with σ (not log σ) interpolated linearly — Euler/Heun/LMS with
 *       {@code interpolation_type = "linear"} on linspace/leading/trailing timesteps
 *       ({@code np.interp(timesteps, arange(T), sigmas)}).</li>
 * </ul>
 */
public enum TimestepMapping {
  CONTINUOUS, ROUNDED, LINEAR;

  /**
   * The timestep for σ &gt; 0 on {@code process}, clamped to [0, T − 1].
   *
   * @param table the process's σ table ({@link DiscreteDdpm#sigmas}; kept for callers, the process has it)
   */
  public double timestep(DiscreteDdpm process, double[] table, double sigma) {
    switch (this) {
      case CONTINUOUS:
        return process.sigmaInv(sigma);
      case ROUNDED:
        return Math.rint(process.sigmaInv(sigma));
      default:
        return process.timestepLinear(sigma);
    }
  }

  /** {@code continuous}, {@code rounded} or {@code linear}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@link #id()}. */
  public static TimestepMapping parse(String s) {
    for (TimestepMapping m : values()) {
      if (m.id().equals(s.toLowerCase(Locale.ROOT))) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown timestep mapping '" + s + "'; accepted: continuous, rounded, linear");
  }
}
