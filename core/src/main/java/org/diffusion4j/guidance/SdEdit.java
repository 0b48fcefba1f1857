package org.diffusion4j.guidance;

import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;

/**
 * SDEdit (Meng et al. 2022, "SDEdit: guided image synthesis and editing with stochastic differential
 * equations", §3): noise an input to an intermediate level, {@code x̂ = x_in + σ_start ε}, and denoise it
 * with any sampler from there; the strength in [0, 1] trades faithfulness to the input (small) against
 * realism (large). With a grid of N steps, strength s keeps its last {@code k = round(s·N)} steps
 * (at least one), as diffusers' img2img pipelines do; s = 1 is the whole grid (plain generation from a
 * slightly informed start).
 */
public final class SdEdit {
  private SdEdit() {}

  /** Salt that keeps the input's noise apart from the sampler's own draws of the same seeds. */
  private static final long SALT = 0x5DED17L;

  /** The part of {@code full} that a run of strength {@code strength} ∈ (0, 1] takes. */
  public static Grid grid(Grid full, double strength) {
    if (!(strength > 0 && strength <= 1)) {
      throw new IllegalArgumentException("SDEdit strength must be in (0, 1], got " + strength);
    }
    int n = full.steps();
    int k = Math.max(1, Math.min(n, (int) Math.round(strength * n)));
    return n - k == 0 ? full : full.tail(n - k);
  }

  /** The part of {@code full} from the first point with {@code σ ≤ sigmaStart}. */
  public static Grid gridFrom(Grid full, double sigmaStart) {
    for (int i = 0; i < full.size() - 1; i++) {
      if (full.sigma(i) <= sigmaStart) {
        return i == 0 ? full : full.tail(i);
      }
    }
    throw new IllegalArgumentException("SDEdit start σ " + sigmaStart + " is below every point of the grid but the "
        + "last (σ_min " + full.sigma(full.size() - 2) + ")");
  }

  /**
   * The initial states of the run, in process coordinates at the grid's first point:
   * {@code s_0·(x_in + σ_0 ε)}, with ε from each seed's own stream (salted, so it differs from the
   * sampler's later draws of that seed).
   *
   * @param input n samples in data scale, row-major
   * @param grid the run's grid (from {@link #grid})
   * @param seeds one seed per sample
   */
  public static double[] start(double[] input, Grid grid, long[] seeds) {
    if (seeds.length == 0 || input.length % seeds.length != 0) {
      throw new IllegalArgumentException("SDEdit input has " + input.length + " values for " + seeds.length
          + " seeds; it must hold one sample per seed");
    }
    int per = input.length / seeds.length;
    long[] salted = new long[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      salted[i] = seeds[i] ^ SALT;
    }
    SeededNoise noise = new SeededNoise(salted);
    double s = grid.s(0);
    double sg = grid.sigma(0);
    double[] x = new double[input.length];
    for (int k = 0; k < seeds.length; k++) {
      double[] eps = noise.next(k, per);
      for (int i = 0; i < per; i++) {
        double v = input[k * per + i];
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("SDEdit input value " + v + " of sample " + k + " is not finite");
        }
        x[k * per + i] = s * (v + sg * eps[i]);
      }
    }
    return x;
  }
}
