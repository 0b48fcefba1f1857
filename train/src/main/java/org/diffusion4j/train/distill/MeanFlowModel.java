package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.nn.InferenceMode;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A Mean Flow network u(z, r, t) (Geng et al. 2025) as a flow-map model of the frame
 * ({@link org.diffusion4j.denoiser.FlowMap} convention). On the rectified-flow path
 * {@code z_t = (1 − t) x0 + t ε} (t = σ/(1+σ), z = x̂/(1+σ)) the map is {@code z_r = z_t − (t − r) u(z_t, r, t)}
 * (their eq. 12 with the sign as derived from u's definition). Rewritten in x̂ and σ with r = σ′/(1+σ′),
 * the g of the convention is exactly {@code g = z − t·u(z, r, t)}: the flow-matching x0-prediction with the
 * second time added, and without a target level (r = t) the model's denoiser.
 */
public final class MeanFlowModel implements Denoiser {
  private final Block network;

  /** @param network a two-time network taking {@code NDList(z, t[, r][, labels])} ({@link org.diffusion4j.train.nn.TwoTimeMlp}) */
  public MeanFlowModel(Block network) {
    this.network = network;
  }

  /** u(z, r, t) in training or inference mode: z {@code [n, D]}, t and r {@code [n]} float32. */
  public NDArray velocity(ParameterStore ps, boolean training, NDArray z, NDArray t, NDArray r, NDArray labels) {
    NDList in = new NDList(z, t, r);
    if (labels != null) {
      in.add(labels);
    }
    return network.forward(ps, in, training).singletonOrThrow();
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    double[] target = c.sigmaTarget();
    Conditioning rest = c.withSigmaTarget(null);
    NDArray result;
    try (NDScope scope = new NDScope(); InferenceMode off = InferenceMode.enter(x)) {
      ParameterStore ps = new ParameterStore(x.getManager(), false);
      double[] r = new double[sigma.length];
      for (int i = 0; i < r.length; i++) {
        double s = target == null ? sigma[i] : target[i];
        r[i] = Double.isInfinite(s) ? 1 : s / (1 + s);
      }
      NetworkDenoiser.Output o = NetworkDenoiser.precondition(new Preconditioning.Flow(), x, sigma, rest,
          (in, cNoise, labels) -> velocity(ps, false, in.toType(DataType.FLOAT32, false),
              cNoise.toType(DataType.FLOAT32, false), x.getManager().create(r).toType(DataType.FLOAT32, false), labels));
      result = o.denoised();
      NDScope.unregister(result);
    }
    NDScope.register(result);
    return result;
  }
}
