package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.autodiff.Jvp;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.AdaptiveWeight;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Continuous-time consistency models in tangent form, sCM (Lu &amp; Song 2024, "Simplifying, Stabilizing
 * and Scaling Continuous-Time Consistency Models", Algorithm 1): consistency training sCT from scratch and
 * consistency distillation sCD from a teacher. On the TrigFlow path {@code x_t = cos(t) x0 + sin(t) z},
 * z ~ N(0, σd² I) (EDM's x̂ = x_t/cos t at σ = σd tan t), with {@code f_θ(x_t, t) = cos(t) x_t − sin(t) σd F_θ(x_t/σd, t)},
 * <pre>
 *   g = −cos²(t)(σd F_θ⁻ − dx_t/dt) − r·cos(t) sin(t)(x_t + σd dF_θ⁻/dt),   g ← g/(‖g‖ + c)
 *   L = E[ e^{w_φ(t)}/D ‖F_θ(x_t/σd, t) − F_θ⁻(x_t/σd, t) − g‖² − w_φ(t) ]
 * </pre>
 * (their eq. 8 and 9), θ⁻ = stopgrad(θ). {@code g = cos(t)·df_θ⁻/dt} along the PF-ODE, so the gradient of L
 * is the continuous-time consistency gradient (Song et al. 2023, Theorem 6) and g vanishes exactly at the
 * consistency function of the ODE. The velocity {@code dx_t/dt} is {@code cos(t) z − sin(t) x0} for sCT and
 * the teacher's {@code (cos(t) x_t − D_φ(x_t/cos t; σ))/sin t} for sCD. The total derivative
 * {@code cos(t) sin(t)·dF_θ⁻/dt} is one {@link Jvp} of the raw network with the tangent
 * (cos t sin t·(dx_t/dt)/σd, cos t sin t·dc_noise/dt) (their "JVP rearrangement"); r = min(1, k/H) is the
 * tangent warm-up over H steps; the tangent is normalised with c = 0.1 ({@link Tangent#NORMALISE}, their
 * choice) or clipped to [−1, 1] ({@link Tangent#CLIP}); w_φ is an {@link AdaptiveWeight}. Times are drawn
 * as {@code σ = σd tan t = e^τ}, τ ~ N(P_mean, P_std²) (sCT −1.0, 1.4; sCD −0.8, 1.6), clamped to
 * [σ_min, σ_max].
 *
 * <p>The student may carry the {@link Preconditioning.TrigFlow} preconditioning (c_noise = t, the paper's)
 * or EDM's ({@link Preconditioning.Edm}), which is TrigFlow with F negated and c_noise = ¼ ln(σd tan t), so
 * that an EDM teacher's weights initialise an sCD student; both satisfy f(x, 0) = x exactly.
 */
public final class ContinuousConsistencyLoss implements TrainingLoss {

  /** How the tangent g is kept bounded. */
  public enum Tangent {
    /** g/(‖g‖ + c), c = 0.1 (Lu &amp; Song 2024, their default). */
    NORMALISE,
    /** Each entry clipped to [−1, 1] (their alternative). */
    CLIP,
    /** Left as it is. */
    NONE
  }

  /** The normalisation constant c. */
  public static final double C = 0.1;

  private final String student;
  private final String teacher;
  private final String weight;
  private final double sigmaData;
  private final long warmup;
  private final Tangent tangent;
  private final double pMean;
  private final double pStd;
  private final double sigmaMin;
  private final double sigmaMax;

  private ContinuousConsistencyLoss(String student, String teacher, String weight, double sigmaData, long warmup,
      Tangent tangent, double pMean, double pStd, double sigmaMin, double sigmaMax) {
    if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
      throw new IllegalArgumentException("sCM: sigma_data must be finite and > 0, got " + sigmaData);
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("sCM: the tangent warm-up H must be >= 0 steps, got " + warmup);
    }
    if (!(sigmaMin > 0 && sigmaMin < sigmaMax) || Double.isInfinite(sigmaMax)) {
      throw new IllegalArgumentException("sCM: need 0 < sigma_min < sigma_max < ∞, got " + sigmaMin + " and "
          + sigmaMax);
    }
    this.student = Objects.requireNonNull(student, "student");
    this.teacher = teacher;
    this.weight = weight;
    this.sigmaData = sigmaData;
    this.warmup = warmup;
    this.tangent = Objects.requireNonNull(tangent, "tangent");
    this.pMean = pMean;
    this.pStd = pStd;
    this.sigmaMin = sigmaMin;
    this.sigmaMax = sigmaMax;
  }

  /**
   * sCT: consistency training from scratch.
   *
   * @param weight the trainable {@link AdaptiveWeight} network's name, or null for w = 0
   * @param warmup the tangent warm-up H in steps (0: r = 1 throughout)
   */
  public static ContinuousConsistencyLoss training(String student, String weight, double sigmaData, long warmup,
      Tangent tangent, double sigmaMax) {
    return training(student, weight, sigmaData, warmup, tangent, -1.0, 1.4, sigmaMax);
  }

  /** sCT with the noise-level draw τ ~ N(pMean, pStd²), σ = e^τ (the paper's CIFAR-10 choice: −1.0, 1.4). */
  public static ContinuousConsistencyLoss training(String student, String weight, double sigmaData, long warmup,
      Tangent tangent, double pMean, double pStd, double sigmaMax) {
    return new ContinuousConsistencyLoss(student, null, weight, sigmaData, warmup, tangent, pMean, pStd,
        Preconditioning.Consistency.DEFAULT_SIGMA_MIN, sigmaMax);
  }

  /** sCD: consistency distillation of the frozen denoiser {@code teacher}. */
  public static ContinuousConsistencyLoss distillation(String student, String teacher, String weight,
      double sigmaData, long warmup, Tangent tangent, double sigmaMax) {
    return distillation(student, teacher, weight, sigmaData, warmup, tangent, -0.8, 1.6, sigmaMax);
  }

  /** sCD with the noise-level draw τ ~ N(pMean, pStd²), σ = e^τ (the paper's sCD choice: −0.8, 1.6). */
  public static ContinuousConsistencyLoss distillation(String student, String teacher, String weight,
      double sigmaData, long warmup, Tangent tangent, double pMean, double pStd, double sigmaMax) {
    return new ContinuousConsistencyLoss(student, Objects.requireNonNull(teacher, "teacher"), weight, sigmaData,
        warmup, tangent, pMean, pStd, Preconditioning.Consistency.DEFAULT_SIGMA_MIN, sigmaMax);
  }

  /** Whether this is sCD. */
  public boolean distills() {
    return teacher != null;
  }

  /** The tangent warm-up factor r at step k. */
  public double warmupFactor(long k) {
    return warmup == 0 ? 1 : Math.min(1, k / (double) warmup);
  }

  /** Noise levels σ = e^τ, τ ~ N(P_mean, P_std²), clamped to [σ_min, σ_max]. */
  public double[] drawSigmas(int n, SplittableRandom rng) {
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = Math.min(sigmaMax, Math.max(sigmaMin, Math.exp(pMean + pStd * rng.nextGaussian())));
    }
    return s;
  }

  /** F_θ⁻ (raw network output, detached) and the tangent g in the raw network's sign. */
  public record Tangents(NDArray value, NDArray g) {}

  /**
   * ±1: the sign s with F_TrigFlow = s·F_raw for the student's preconditioning (TrigFlow +1, EDM −1).
   *
   * @throws IllegalArgumentException for any other preconditioning
   */
  public static int sign(Preconditioning p, double sigmaData) {
    if (p instanceof Preconditioning.TrigFlow tf && tf.sigmaData() == sigmaData) {
      return 1;
    }
    if (p instanceof Preconditioning.Edm e && e.sigmaData() == sigmaData) {
      return -1;
    }
    throw new IllegalArgumentException("sCM needs a TrigFlow or EDM preconditioned student with sigma_data "
        + sigmaData + ", got " + p);
  }

  /**
   * The tangent of the raw stop-gradient network {@code raw} = F_θ⁻(y, c) at {@code x_t}.
   *
   * @param raw the raw network F(y, c) with y = x_t/σd and c = c_noise
   * @param p the student's preconditioning (TrigFlow or EDM)
   * @param xt x_t {@code [n, …]}
   * @param sigma σ = σd tan t per example
   * @param dxdt dx_t/dt, like x_t
   * @param r the warm-up factor
   */
  public Tangents tangents(Jvp.Fn raw, Preconditioning p, NDArray xt, double[] sigma, NDArray dxdt, double r) {
    int s = sign(p, sigmaData);
    int n = sigma.length;
    double[] cos = new double[n];
    double[] sin = new double[n];
    double[] c = new double[n];
    double[] dc = new double[n];
    double[] cs = new double[n];
    for (int i = 0; i < n; i++) {
      double t = Math.atan2(sigma[i], sigmaData);
      cos[i] = Math.cos(t);
      sin[i] = Math.sin(t);
      cs[i] = cos[i] * sin[i];
      c[i] = p.scalings(sigma[i]).cNoise();
      // cos t sin t · dc/dt: TrigFlow c = t; EDM c = ¼ ln(σd tan t), dc/dt = 1/(4 sin t cos t).
      dc[i] = s > 0 ? cs[i] : 0.25;
    }
    NDManager m = xt.getManager();
    DataType type = xt.getDataType();
    NDArray y = Scalars.div(xt, sigmaData);
    NDArray cc = m.create(c).toType(type, false);
    NDArray dcc = m.create(dc).toType(type, false);
    NDArray yTangent = Scalars.div(dxdt.mul(TeacherStep.column(xt, cs)), sigmaData);
    NDArray value;
    NDArray jvp;
    try (Jvp.Result j = Jvp.of(raw).apply(y, cc, yTangent, dcc)) {
      value = j.value().duplicate();
      jvp = j.tangent().duplicate();
    }
    // g_trig = −cos²t (σd s F⁻ − v) − r (cos t sin t x_t + σd s J); returned as s·g_trig.
    NDArray cos2 = TeacherStep.column(xt, square(cos));
    NDArray gTrig = Scalars.mul(value, s * sigmaData).sub(dxdt).mul(cos2).neg()
        .sub(Scalars.mul(xt.mul(TeacherStep.column(xt, cs)).add(Scalars.mul(jvp, s * sigmaData)), r));
    NDArray g = Scalars.mul(gTrig, s);
    return new Tangents(value.stopGradient(), bound(g, n).stopGradient());
  }

  private NDArray bound(NDArray g, int n) {
    switch (tangent) {
      case NORMALISE: {
        long d = g.size() / n;
        long[] b = new long[g.getShape().dimension()];
        java.util.Arrays.fill(b, 1);
        b[0] = n;
        NDArray norm = g.square().reshape(n, d).sum(new int[] {1}).sqrt().reshape(new Shape(b));
        return g.div(norm.add(C));
      }
      case CLIP:
        return g.clip(-1, 1);
      default:
        return g;
    }
  }

  /** The velocity dx_t/dt: the teacher's (sCD) or the conditional one cos(t) z − sin(t) x0 (sCT). */
  public NDArray velocity(Denoiser teacherNet, NDArray x0, NDArray eps, NDArray xt, double[] sigma, Conditioning c) {
    int n = sigma.length;
    double[] cos = new double[n];
    double[] sin = new double[n];
    for (int i = 0; i < n; i++) {
      double t = Math.atan2(sigma[i], sigmaData);
      cos[i] = Math.cos(t);
      sin[i] = Math.sin(t);
    }
    if (teacherNet == null) {
      return Scalars.mul(eps, sigmaData).mul(TeacherStep.column(x0, cos)).sub(x0.mul(TeacherStep.column(x0, sin)));
    }
    NDArray xHat = xt.div(TeacherStep.column(xt, cos));
    NDArray d = teacherNet.denoise(xHat, sigma, c);
    return xt.mul(TeacherStep.column(xt, cos)).sub(d).div(TeacherStep.column(xt, sin)).stopGradient();
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    double[] sigma = drawSigmas(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    Conditioning c = ctx.conditioning();
    NetworkDenoiser net = ctx.trainable(student);
    double[] cos = new double[n];
    for (int i = 0; i < n; i++) {
      cos[i] = Math.cos(Math.atan2(sigma[i], sigmaData));
    }
    NDArray xt = ctx.noisy(x0, sigma, eps).mul(TeacherStep.column(x0, cos));
    NDArray v = velocity(distills() ? ctx.frozen(teacher) : null, x0, eps, xt, sigma, c);
    NDArray labels = ctx.batch().labels();
    double r = warmupFactor(ctx.step());
    Tangents tg = tangents(Jvp.Fn.of(net.network(), ctx.parameters(), false, labels), net.preconditioning(), xt,
        sigma, v, r);
    NDArray want = tg.value().add(tg.g()).stopGradient();
    NDArray got = net.forward(ctx.parameters(), true, xt.div(TeacherStep.column(xt, cos)), sigma, c).f();
    long d = x0.size() / n;
    NDArray per = got.sub(want).square().reshape(n, d).mean(new int[] {1});
    NDArray loss;
    Map<String, Double> metrics = new LinkedHashMap<>();
    if (weight != null) {
      double[] cn = new double[n];
      for (int i = 0; i < n; i++) {
        cn[i] = net.preconditioning().scalings(sigma[i]).cNoise();
      }
      AdaptiveWeight w = (AdaptiveWeight) ctx.trainable(weight).network();
      NDArray lw = w.apply(ctx.parameters(), ctx.manager().create(cn).toType(DataType.FLOAT32, false), true);
      loss = lw.exp().mul(per).sub(lw).mean();
    } else {
      loss = per.mean();
    }
    metrics.put("mse", (double) per.mean().getFloat());
    metrics.put("r", r);
    return new Value(loss, metrics);
  }

  private static double[] square(double[] a) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] * a[i];
    }
    return r;
  }
}
