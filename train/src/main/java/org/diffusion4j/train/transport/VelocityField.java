package org.diffusion4j.train.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.nn.InferenceMode;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A time-dependent velocity field {@code v(x, t)} in the flow-matching convention (source at t = 0,
 * target at t = 1), on n points stored row-major in double on the host.
 */
@FunctionalInterface
public interface VelocityField {

  /** {@code v(x_i, t)} for the n rows of {@code x}. */
  double[] velocity(double[] x, int n, double t);

  /**
   * A trained flow-preconditioned network (F(x, τ) = −v(x, 1 − τ), see {@link FlowMatchingLoss}) in
   * inference mode, with a batch's conditioning (or {@link Conditioning#NONE}).
   */
  static VelocityField of(NetworkDenoiser net, long[] sampleShape, Conditioning conditioning) {
    if (!(net.preconditioning() instanceof Preconditioning.Flow)) {
      throw new IllegalArgumentException("a velocity field needs a flow-preconditioned network, got "
          + net.preconditioning().id() + " preconditioning");
    }
    long[] shape = sampleShape.clone();
    NDManager parent = net.network().getParameters().valueAt(0).getArray().getManager();
    return (x, n, t) -> {
      try (NDManager m = parent.newSubManager(); InferenceMode off = InferenceMode.enter(m)) {
        long[] b = org.diffusion4j.train.data.DataSource.batchShape(n, shape);
        NDList in = new NDList(m.create(x, new Shape(b)).toType(DataType.FLOAT32, false),
            m.full(new Shape(n), (float) (1 - t)));
        long[] labels = conditioning.labels();
        if (labels != null) {
          if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " labels for " + n + " points");
          }
          in.add(m.create(labels));
        }
        NDArray f = net.network().forward(new ParameterStore(m, false), in, false).singletonOrThrow();
        double[] v = f.toType(DataType.FLOAT64, false).toDoubleArray();
        for (int i = 0; i < v.length; i++) {
          v[i] = -v[i];
        }
        return v;
      }
    };
  }
}
