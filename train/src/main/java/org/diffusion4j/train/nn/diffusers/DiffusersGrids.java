package org.diffusion4j.train.nn.diffusers;

import java.util.Arrays;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * The grids diffusers v0.25's schedulers step through, as {@link Grid}s of the model's process, so that our
 * samplers reproduce a diffusers loop from the same latents (the initial state in process coordinates):
 * <ul>
 *   <li>{@code DDIMScheduler}/{@code DDPMScheduler}: {@link #ddim} — the spacing's timesteps, then σ = 0
 *       ({@code set_alpha_to_one}); sampler {@code ddim}, any timestep mapping.</li>
 *   <li>{@code DPMSolverMultistepScheduler}: {@link #dpmSolverMultistep} — N + 1 spaced timesteps with the last
 *       dropped, then σ(t = 0), not 0: v0.25 ends with the state at the smallest training σ; its last step is
 *       first order below 15 steps ({@code lower_order_final}), i.e. sampler {@code unipc} with
 *       {@code corrector=false}. With {@code use_karras_sigmas}, {@link #dpmSolverMultistepKarras} — N Karras
 *       σ's over [σ(0), σ(T − 1)] ending at σ_min (v0.25 repeats σ_min, so its last step is a no-op), sampler
 *       {@code dpmpp-2m} and {@link TimestepMapping#ROUNDED}.</li>
 *   <li>{@code EulerDiscreteScheduler}: {@link #euler} — on {@code linspace} the timesteps stay fractional,
 *       {@code linspace(0, T − 1, N)} in float32, and σ is interpolated linearly, then 0; sampler {@code euler}
 *       and {@link TimestepMapping#LINEAR}.</li>
 * </ul>
 */
public final class DiffusersGrids {
  private DiffusersGrids() {}

  /** DDIM/DDPM: {@code leading}, {@code trailing} or {@code linspace} timesteps, then σ = 0. */
  public static Grid ddim(DiscreteDdpm p, int steps, String spacing, int stepsOffset) {
    return new GridSpec.Timesteps(spacing, stepsOffset, false).build(p, steps);
  }

  /** DPMSolverMultistep (v0.25, no Karras σ's): N + 1 spacing with the last dropped, then t = 0. */
  public static Grid dpmSolverMultistep(DiscreteDdpm p, int steps, String spacing, int stepsOffset) {
    long[] ts = new GridSpec.Timesteps(spacing, stepsOffset, true).timesteps(p.trainSteps(), steps);
    double[] t = new double[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      t[i] = ts[i];
    }
    if (t[ts.length - 1] == 0) {
      throw new IllegalArgumentException("the last DPMSolverMultistep timestep is already 0; use fewer steps");
    }
    return Grid.ofTimes(p, t);
  }

  /** DPMSolverMultistep with {@code use_karras_sigmas}: N Karras σ's (ρ = 7) from σ(T − 1) to σ(0), no zero. */
  public static Grid dpmSolverMultistepKarras(DiscreteDdpm p, int steps) {
    if (steps < 2) {
      throw new IllegalArgumentException("steps must be >= 2, got " + steps);
    }
    Grid k = GridSpec.karras(p.sigma(0), p.sigma(p.tMax()), 7).build(p, steps);
    return Grid.ofSigmas(p, Arrays.copyOf(k.sigmas(), steps));
  }

  /** EulerDiscrete with {@code interpolation_type = linear}: fractional linspace timesteps, σ linear, then 0. */
  public static Grid euler(DiscreteDdpm p, int steps, String spacing, int stepsOffset) {
    if (!spacing.equals("linspace")) {
      return ddim(p, steps, spacing, stepsOffset); // integer timesteps: the same grid
    }
    return new GridSpec.Timesteps("linspace", stepsOffset, false, true).build(p, steps);
  }
}
