package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.denoiser.Denoiser;

/** Test data shared by the guidance tests: the exact denoiser of a Gaussian on small images. */
final class GaussianImages {
  private GaussianImages() {}

  /**
   * The exact denoiser of N(μ, s² I) on [1, side, side] images, D = (s² x + σ² μ)/(s² + σ²), in NDArray
   * operations so gradients flow through it.
   */
  static Denoiser denoiser(double[] mu, double s, int side) {
    return (x, sigma, c) -> {
      NDArray m = x.getManager().create(mu, new Shape(1, 1, side, side)).toType(x.getDataType(), false);
      double[] a = new double[sigma.length];
      double[] b = new double[sigma.length];
      for (int i = 0; i < sigma.length; i++) {
        double v = s * s + sigma[i] * sigma[i];
        a[i] = s * s / v;
        b[i] = sigma[i] * sigma[i] / v;
      }
      return x.mul(Rows.column(x, a)).add(m.mul(Rows.column(x, b)));
    };
  }
}
