package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.tensor.Scalars;

/**
 * DDIM inversion (Song et al. 2021, "Denoising diffusion implicit models", §4.3 and eq. 13; Dhariwal &amp;
 * Nichol 2021, App. F): the deterministic DDIM step run backwards, from data to noise, along a grid's
 * points in reverse. In the frame's coordinates a DDIM step is
 * {@code x̂' = D + σ'·(x̂ − D)/σ} (Euler on the PF-ODE {@code dx̂/dσ = (x̂ − D)/σ}); inversion takes it from
 * σ_i to the larger σ_{i−1} with D and ε evaluated at the current point, starting from the data taken as
 * the state at the smallest non-zero σ of the grid. Running the DDIM sampler on the same grid from the
 * result regenerates the data up to the solver's error (first order in the step), so edits of the
 * latent (or of the conditioning) translate the input (Su et al. 2023, "Dual diffusion implicit bridges").
 */
public final class DdimInversion {
  private DdimInversion() {}

  /**
   * The latents of data samples: states in process coordinates at the grid's first point.
   *
   * @param model the denoiser
   * @param grid a sampling grid (its σ = 0 end, if any, is where the data sits)
   * @param data n samples in data scale, row-major
   * @param sampleShape the shape of one sample
   * @param conditioning one row per sample, or {@link Conditioning#NONE}
   */
  public static double[] invert(Denoiser model, Grid grid, double[] data, long[] sampleShape,
      Conditioning conditioning) {
    long per = 1;
    for (long v : sampleShape) {
      per *= v;
    }
    if (per == 0 || data.length % per != 0) {
      throw new IllegalArgumentException("DDIM inversion: " + data.length + " values are not whole samples of shape "
          + java.util.Arrays.toString(sampleShape));
    }
    int n = (int) (data.length / per);
    conditioning.requireSize(n);
    int last = grid.endsAtZero() ? grid.size() - 2 : grid.size() - 1;
    if (last < 1) {
      throw new IllegalArgumentException("DDIM inversion needs a grid with at least two non-zero noise levels");
    }
    long[] shape = new long[sampleShape.length + 1];
    shape[0] = n;
    System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
    Denoiser d = model.conditioned(conditioning);
    try (NDManager m = org.diffusion4j.device.Devices.newManager()) {
      NDArray x = m.create(data, new Shape(shape));
      for (int i = last; i > 0; i--) {
        double s = grid.sigma(i);
        double up = grid.sigma(i - 1);
        try (NDManager step = m.newSubManager()) {
          x.tempAttach(step);
          NDArray den = d.denoise(x, s);
          NDArray next = den.add(Scalars.mul(x.sub(den), up / s));
          next.attach(m);
          x = next;
        }
      }
      double[] out = x.toType(DataType.FLOAT64, false).toDoubleArray();
      double s0 = grid.s(0);
      for (int i = 0; i < out.length; i++) {
        out[i] *= s0;
      }
      return out;
    }
  }
}
