package org.diffusion4j.train.transport;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Conditional flow matching (Lipman et al. 2023, eq. 9/23; Tong et al. 2024, eq. 14): on a pair batch
 * (x0, x1) from a {@link PairSource}, draw {@code t ~ U(0, 1)} and ε, form
 * {@code x_t = a x0 + b x1 + s ε} and regress the velocity network on the conditional velocity
 * {@code u_t = a' x0 + b' x1 + s' ε}: {@code L = E‖v_θ(x_t, t) − u_t‖²} (mean over elements).
 *
 * <p>The network is the frame's flow-preconditioned one (a velocity network F taking x_t and
 * {@code c_noise = τ = 1 − t}, the frame's time with data at τ = 0): F learns {@code −v}, so
 * {@code D = x_τ − τ F} is the denoiser of the rectified-flow process and a run trained on the linear
 * path from N(0, I) samples with every sampler of the frame.
 *
 * @param path the conditional path
 * @param model the trainable network's name
 * @param tEdge t is drawn in {@code [tEdge, 1 − tEdge]} (the Brownian bridge's s' and the VP path's a'
 *     are singular at the ends)
 */
public record FlowMatchingLoss(ConditionalPath path, String model, double tEdge) implements TrainingLoss {
  public FlowMatchingLoss {
    java.util.Objects.requireNonNull(path, "path");
    if (!(tEdge >= 0 && tEdge < 0.5)) {
      throw new IllegalArgumentException("t-edge must be in [0, 0.5), got " + tEdge);
    }
  }

  /** The loss of a run's single network, t drawn in [1e-5, 1 − 1e-5]. */
  public FlowMatchingLoss(ConditionalPath path) {
    this(path, Trainer.MODEL, 1e-5);
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray[] pair = PairSource.split(ctx.batch().x());
    NDArray x0 = pair[0];
    NDArray x1 = pair[1];
    int n = Math.toIntExact(x0.getShape().get(0));
    NDManager m = ctx.manager();
    double[] t = new double[n];
    double[][] c = new double[6][n];
    for (int i = 0; i < n; i++) {
      t[i] = tEdge + (1 - 2 * tEdge) * ctx.rng().nextDouble();
      c[0][i] = path.a(t[i]);
      c[1][i] = path.b(t[i]);
      c[2][i] = path.s(t[i]);
      c[3][i] = path.da(t[i]);
      c[4][i] = path.db(t[i]);
      c[5][i] = path.ds(t[i]);
    }
    long[] b = new long[x0.getShape().dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = n;
    Shape bs = new Shape(b);
    NDArray[] k = new NDArray[6];
    for (int j = 0; j < 6; j++) {
      k[j] = m.create(c[j], bs).toType(DataType.FLOAT32, false);
    }
    NDArray xt = x0.mul(k[0]).add(x1.mul(k[1]));
    NDArray ut = x0.mul(k[3]).add(x1.mul(k[4]));
    if (path.s(0.5) != 0) {
      NDArray eps = ctx.normals(x0);
      xt = xt.add(eps.mul(k[2]));
      ut = ut.add(eps.mul(k[5]));
    }
    double[] tau = new double[n];
    for (int i = 0; i < n; i++) {
      tau[i] = 1 - t[i];
    }
    NetworkDenoiser net = ctx.trainable(model);
    NDList in = new NDList(xt, m.create(tau).toType(DataType.FLOAT32, false));
    if (ctx.batch().labels() != null) {
      in.add(ctx.batch().labels());
    }
    NDArray f = net.network().forward(ctx.parameters(), in, true).singletonOrThrow();
    // F predicts −v: the loss is ‖F + u_t‖².
    NDArray se = f.add(ut).square();
    NDArray loss = (se.getShape().dimension() == 1 ? se : se.reshape(n, -1).mean(new int[] {1})).mean();
    return new Value(loss, Map.of());
  }
}
