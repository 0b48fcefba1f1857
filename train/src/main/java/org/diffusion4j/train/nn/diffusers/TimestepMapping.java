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

  /** The timestep for σ &gt; 0 on {@code process}, clamped to [0, T − 1]. */
  public double timestep(DiscreteDdpm process, double[] table, double sigma) {
    switch (this) {
      case CONTINUOUS:
        return process.sigmaInv(sigma);
      case ROUNDED:
        return Math.rint(process.sigmaInv(sigma));
      default: {
        if (sigma <= table[0]) {
          return 0;
        }
        int n = table.length;
        if (sigma >= table[n - 1]) {
          return n - 1;
        }
        int lo = 0;
        int hi = n - 1;
        while (hi - lo > 1) {
          int mid = (lo + hi) >>> 1;
          if (table[mid] <= sigma) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
        return lo + (sigma - table[lo]) / (table[lo + 1] - table[lo]);
      }
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
