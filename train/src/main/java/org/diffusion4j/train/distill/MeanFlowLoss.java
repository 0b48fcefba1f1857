package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.train.autodiff.Jvp;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.tensor.Scalars;

/**
 * Mean Flows (Geng, Deng, Bai, Kolter &amp; He 2025, "Mean Flows for One-step Generative Modeling"):
 * regress the average velocity u(z, r, t) = (1/(t − r)) ∫_r^t v(z_τ, τ) dτ on the rectified-flow path
 * {@code z_t = (1 − t) x0 + t ε} with the Mean Flow identity (their eq. 6 and 8)
 * <pre>
 *   u_tgt = v − (t − r)(v·∂_z u + ∂_t u),   L = E sg(w)·‖u_θ(z_t, r, t) − sg(u_tgt)‖²
 * </pre>
 * where {@code v = ε − x0} (training from scratch) and the total derivative is one JVP of u_θ with
 * tangent (v, 1) at fixed r ({@link Jvp}); w = 1/(‖Δ‖² + c)^p is their adaptive weight (c = 10⁻³;
 * p = 1 by default, their best on ImageNet latents; on 2-D data p = 0.5 measured far better, see the README:
 * two-moons 1-NFE sliced W₂ 1.38× the data–data distance against 2.27× with p = 1). t and r are drawn
 * logit-normal (−0.4, 1.0), ordered t ≥ r, and a fraction of the examples (1 − {@code fractionUnequal},
 * 75% by default, their best) has r = t, which is flow matching.
 * The network is trained on the raw F of a {@link MeanFlowModel} (z and t as F's inputs).
 *
 * <p>Mean Flow distillation replaces the conditional velocity ε − x0 by a frozen teacher's marginal one,
 * {@code v = (z − D_φ(z/(1 − t); t/(1 − t)))/t} (the teacher's x0-estimate in EDM coordinates): the
 * identity then holds for the teacher's PF-ODE, whose average velocity the student learns.
 */
public final class MeanFlowLoss implements TrainingLoss {
  private final String model;
  private final String teacher;
  private final double fractionUnequal;
  private final double mu;
  private final double std;
  private final double power;

  /**
   * @param model the trainable network's name
   * @param fractionUnequal the share of examples with r &lt; t, in [0, 1] (0.25)
   */
  public MeanFlowLoss(String model, double fractionUnequal) {
    this(model, null, fractionUnequal);
  }

  /**
   * Mean Flow distillation of the frozen denoiser {@code teacher} (null: training from scratch).
   */
  public MeanFlowLoss(String model, String teacher, double fractionUnequal) {
    this(model, teacher, fractionUnequal, 1);
  }

  /**
   * @param power the adaptive weight's exponent p ≥ 0 (0: plain squared error; 1: Geng et al.'s default)
   */
  public MeanFlowLoss(String model, String teacher, double fractionUnequal, double power) {
    if (!(fractionUnequal >= 0 && fractionUnequal <= 1)) {
      throw new IllegalArgumentException("Mean Flow: the fraction of r != t pairs must lie in [0, 1], got "
          + fractionUnequal);
    }
    if (!(power >= 0) || Double.isInfinite(power)) {
      throw new IllegalArgumentException("Mean Flow: the adaptive weight's power p must be finite and >= 0, got "
          + power);
    }
    this.power = power;
    this.model = model;
    this.teacher = teacher;
    this.fractionUnequal = fractionUnequal;
    this.mu = -0.4;
    this.std = 1.0;
  }

  /** The share of examples with r &lt; t. */
  public double fractionUnequal() {
    return fractionUnequal;
  }

  /** The adaptive weight's exponent p. */
  public double power() {
    return power;
  }

  /** Whether this distils a teacher (false: Mean Flow trained from scratch). */
  public boolean distills() {
    return teacher != null;
  }

  /** (t, r) per example: logit-normal, ordered, r = t for 1 − fractionUnequal of them. */
  public double[][] drawTimes(int n, SplittableRandom rng) {
    double[] t = new double[n];
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      double a = 1 / (1 + Math.exp(-(mu + std * rng.nextGaussian())));
      double b = 1 / (1 + Math.exp(-(mu + std * rng.nextGaussian())));
      boolean unequal = rng.nextDouble() < fractionUnequal;
      t[i] = Math.max(a, b);
      r[i] = unequal ? Math.min(a, b) : t[i];
    }
    return new double[][] {t, r};
  }

  /**
   * The regression target {@code v − (t − r)·du/dt}, detached, with du/dt the JVP of {@code u} (at the
   * fixed r the function closes over) along (v, 1).
   *
   * @param u u(·, r, ·) as a function of (z, t)
   * @param z states {@code [n, D]}
   * @param t times {@code [n]}
   * @param r second times {@code [n]}
   * @param v the velocity along which to differentiate, like z
   */
  public static NDArray target(Jvp.Fn u, NDArray z, NDArray t, NDArray r, NDArray v) {
    try (Jvp.Result j = Jvp.of(u).apply(z, t, v, t.onesLike())) {
      NDArray gap = t.sub(r).reshape(rankColumn(z));
      return v.sub(j.tangent().mul(gap)).stopGradient();
    }
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    NDManager m = ctx.manager();
    int n = Math.toIntExact(x0.getShape().get(0));
    double[][] tr = drawTimes(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray t = m.create(tr[0]).toType(DataType.FLOAT32, false);
    NDArray r = m.create(tr[1]).toType(DataType.FLOAT32, false);
    NDArray tc = t.reshape(rankColumn(x0));
    NDArray z = x0.mul(tc.neg().add(1)).add(eps.mul(tc));
    NDArray v = teacher == null ? eps.sub(x0) : teacherVelocity(ctx.frozen(teacher), z, tr[0], ctx.conditioning());
    MeanFlowModel net = new MeanFlowModel(ctx.trainable(model).network());
    NDArray labels = ctx.batch().labels();
    NDArray want = target((zz, tt) -> net.velocity(ctx.parameters(), false, zz, tt, r, labels), z, t, r, v);
    NDArray got = net.velocity(ctx.parameters(), true, z, t, r, labels);
    long d = x0.size() / n;
    NDArray sq = got.sub(want).square().reshape(n, d).sum(new int[] {1});
    NDArray w = Scalars.pow(sq.add(1e-3), -power).stopGradient();
    NDArray loss = sq.mul(w).mean();
    return new Value(loss, Map.of("mse", (double) sq.mean().getFloat() / d));
  }

  /** The shape {@code [n, 1, …]} of a per-example column broadcasting against {@code x}. */
  static Shape rankColumn(NDArray x) {
    long[] b = new long[x.getShape().dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = x.getShape().get(0);
    return new Shape(b);
  }

  /** The teacher's velocity {@code (z − D(z/(1 − t); t/(1 − t)))/t} on the rectified-flow path. */
  public static NDArray teacherVelocity(org.diffusion4j.denoiser.Denoiser teacherNet, NDArray z, double[] t,
      org.diffusion4j.denoiser.Conditioning c) {
    int n = t.length;
    double[] sigma = new double[n];
    double[] keep = new double[n];
    double[] inv = new double[n];
    for (int i = 0; i < n; i++) {
      double ti = Math.min(t[i], 1 - 1e-6);
      sigma[i] = ti / (1 - ti);
      keep[i] = 1 / (1 - ti);
      inv[i] = 1 / t[i];
    }
    NDArray d = teacherNet.denoise(z.mul(TeacherStep.column(z, keep)), sigma, c).toType(z.getDataType(), false);
    return z.sub(d).mul(TeacherStep.column(z, inv)).stopGradient();
  }

  /** A {@code [n, 1]} column of {@code values} in FLOAT32 (host helper for tests). */
  static NDArray column(NDManager m, double[] values) {
    return m.create(values, new Shape(values.length, 1)).toType(DataType.FLOAT32, false);
  }
}
