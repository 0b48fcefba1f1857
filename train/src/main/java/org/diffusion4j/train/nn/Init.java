package org.diffusion4j.train.nn;

import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;

/**
 * Weight initialisers of the DDPM++ network family (Song et al. 2021 {@code default_init}; Karras et
 * al. 2022 {@code training/networks.py}): Xavier-uniform scaled by a gain, biases zero.
 */
final class Init {
  private Init() {}

  /**
   * Xavier-uniform {@code U(−b, b)} with {@code b = gain·sqrt(6/(fanIn + fanOut))}, where for a
   * weight of shape {@code [out, in, k…]} {@code fanIn = in·∏k} and {@code fanOut = out·∏k}. Gain 1
   * is the default layer; gain 1e-5 is EDM's near-zero init for the last layer of a residual branch
   * (exactly zero would stop the gradient reaching the layers before it at initialisation).
   */
  static Initializer xavierUniform(double gain) {
    return (manager, shape, dataType) -> {
      long receptive = shape.dimension() > 2 ? shape.slice(2).size() : 1;
      long fanOut = shape.get(0) * receptive;
      long fanIn = (shape.dimension() > 1 ? shape.get(1) : 1) * receptive;
      float bound = (float) (gain * Math.sqrt(6.0 / (fanIn + fanOut)));
      return manager.randomUniform(-bound, bound, shape, dataType);
    };
  }

  /** Shape helper: {@code new Shape(dims)}. */
  static Shape shape(long... dims) {
    return new Shape(dims);
  }
}
