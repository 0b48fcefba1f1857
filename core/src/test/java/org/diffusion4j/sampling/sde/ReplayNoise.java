package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.diffusion4j.sampling.NoiseSource;

/** A noise source that hands out fixed, pre-drawn arrays in order and counts the draws. */
final class ReplayNoise implements NoiseSource {
  private final List<double[]> arrays = new ArrayList<>();
  private int used;

  /** {@code count} fixed arrays of {@code size} standard normals from {@code seed}. */
  ReplayNoise(int count, int size, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    for (int k = 0; k < count; k++) {
      double[] a = new double[size];
      for (int i = 0; i < size; i++) {
        a[i] = rng.nextGaussian();
      }
      arrays.add(a);
    }
  }

  /** The fixed arrays, in the order they are handed out. */
  List<double[]> arrays() {
    return arrays;
  }

  /** How many arrays the sampler took. */
  int used() {
    return used;
  }

  @Override
  public NDArray randn(NDManager manager, Shape shape, DataType dtype) {
    if (used >= arrays.size()) {
      throw new IllegalStateException("replay noise exhausted after " + used + " draws");
    }
    double[] a = arrays.get(used++);
    if (shape.size() != a.length) {
      throw new IllegalStateException("replay array has " + a.length + " values, asked for " + shape);
    }
    return manager.create(a, shape).toType(dtype, false);
  }
}
