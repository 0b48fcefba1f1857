package org.diffusion4j.likelihood;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/** A denoiser evaluated on host doubles with one σ per point, what the variational bounds call. */
public interface HostDenoiser {

  /** Dimension of one point. */
  int dim();

  /**
   * @param x n points row-major {@code n·d}
   * @param sigma σ per point, length n
   * @return D(x̂; σ), row-major
   */
  double[] denoise(double[] x, double[] sigma);

  /** The exact denoiser of a mixture. */
  static HostDenoiser of(GaussianMixture mixture) {
    return new HostDenoiser() {
      @Override
      public int dim() {
        return mixture.dim();
      }

      @Override
      public double[] denoise(double[] x, double[] sigma) {
        int d = mixture.dim();
        double[] out = new double[x.length];
        for (int p = 0; p < sigma.length; p++) {
          double[] row = java.util.Arrays.copyOfRange(x, p * d, (p + 1) * d);
          System.arraycopy(mixture.denoise(row, sigma[p]), 0, out, p * d, d);
        }
        return out;
      }
    };
  }

  /** Any {@link Denoiser}, fed in {@code dtype} on a sub-manager of {@code manager}. */
  static HostDenoiser of(Denoiser model, long[] sampleShape, NDManager manager, DataType dtype) {
    long size = 1;
    for (long s : sampleShape) {
      size *= s;
    }
    int d = Math.toIntExact(size);
    return new HostDenoiser() {
      @Override
      public int dim() {
        return d;
      }

      @Override
      public double[] denoise(double[] x, double[] sigma) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = sigma.length;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        try (NDManager m = manager.newSubManager()) {
          NDArray xa = m.create(x, new Shape(shape)).toType(dtype, false);
          return model.denoise(xa, sigma, Conditioning.NONE).toType(DataType.FLOAT64, false).toDoubleArray();
        }
      }
    };
  }
}
