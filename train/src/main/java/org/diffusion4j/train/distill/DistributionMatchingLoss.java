package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Distribution matching distillation, DMD (Yin, Gharbi, Zhang, Shechtman, Durand, Freeman &amp; Park 2024,
 * "One-step Diffusion with Distribution Matching Distillation", Algorithm 1; and the two time-scale
 * update of Yin et al. 2024, "Improved Distribution Matching Distillation", DMD2): a one-step generator
 * {@code x = G_θ(z)}, z ~ N(0, σ_max² I), minimises KL(p_θ ‖ p_data) with the gradient
 * <pre>
 *   ∇_θ KL = E_{σ, ε}[ w (D_fake(x̂; σ) − D_real(x̂; σ)) ∂x/∂θ ],  x̂ = x + σ ε,  w = 1/mean|x − D_real(x̂; σ)|
 * </pre>
 * (their eq. 7–8 in EDM coordinates: the score difference s_real − s_fake is (D_real − D_fake)/σ², and
 * the σ² cancels against their weighting), D_real the frozen teacher and D_fake a fake-score network
 * trained by denoising score matching on the generator's (detached) samples. This is the variational
 * score distillation gradient (Wang et al. 2023, ProlificDreamer, eq. 9) with DMD's weighting. The
 * generator loss is {@code ½‖x − sg(x − grad)‖²} (whose gradient in x is grad), σ follows the Karras
 * spacing between σ_min and σ_max over the middle 96% (DMD's t ∈ [0.02T, 0.98T]), and the fake score
 * uses the same σ's with the teacher's objective weighting.
 *
 * <p>Phases: every step updates the fake score; every K-th step ({@code fakeUpdates} = K) also the
 * generator ({@link #updates}), the rest leave it untouched. K = 1 is DMD's Algorithm 1 (generator and
 * fake score one update each per iteration, the fake-score update on the pre-update generator's samples,
 * as here), K = 5 DMD2's.
 *
 * <p>Regression loss (DMD §3.3, eq. 9): with {@link #withRegression} the generator also regresses a
 * fixed set of the teacher's deterministic ODE solutions, {@code λ_reg·E‖G_θ(z_ref) − y_ref‖²} (mean
 * square in place of their LPIPS), {@code y_ref} the teacher's many-step solve from {@code z_ref}: it
 * anchors the generator to the teacher's noise-to-data coupling and so keeps every mode it covers
 * (DMD's remedy for mode collapse). The GAN term of DMD2 is not built.
 */
public final class DistributionMatchingLoss implements TrainingLoss {
  private final String generator;
  private final String fake;
  private final String teacher;
  private final double sigmaMin;
  private final double sigmaMax;
  private final Objective fakeObjective;
  private final int fakeUpdates;
  private final Regression regression;
  private double generatorLr = 1;

  /**
   * The regression pairs of DMD: prior draws z (generator inputs, {@code [m, …]} flattened row-major) and
   * the teacher's ODE solutions y from them, with the weight λ_reg.
   *
   * @param z generator inputs, m·D values
   * @param y the teacher's solutions, m·D values
   * @param shape one sample's shape (D values)
   * @param weight λ_reg &gt; 0 (DMD: 0.25)
   * @param batch pairs per generator step
   */
  public record Regression(double[] z, double[] y, long[] shape, double weight, int batch) {
    public Regression {
      long d = 1;
      for (long v : shape) {
        d *= v;
      }
      if (z.length != y.length || z.length == 0 || z.length % d != 0) {
        throw new IllegalArgumentException("DMD regression: " + z.length + " inputs and " + y.length
            + " solutions do not form pairs of " + d + " values");
      }
      if (!(weight > 0) || Double.isInfinite(weight)) {
        throw new IllegalArgumentException("DMD regression weight must be finite and > 0, got " + weight);
      }
      if (batch < 1) {
        throw new IllegalArgumentException("DMD regression batch must be >= 1, got " + batch);
      }
    }

    /** Number of pairs. */
    public int pairs() {
      long d = 1;
      for (long v : shape) {
        d *= v;
      }
      return Math.toIntExact(z.length / d);
    }
  }

  /**
   * @param generator the generator's name (consistency-preconditioned, evaluated at σ_max)
   * @param fake the fake-score network's name (trained)
   * @param teacher the frozen teacher's name
   * @param fakeObjective the fake score's weighting (the teacher's objective)
   * @param fakeUpdates K ≥ 1 fake-score updates per generator update
   */
  public DistributionMatchingLoss(String generator, String fake, String teacher, double sigmaMin, double sigmaMax,
      Objective fakeObjective, int fakeUpdates) {
    if (!(sigmaMin > 0 && sigmaMin < sigmaMax) || Double.isInfinite(sigmaMax)) {
      throw new IllegalArgumentException("DMD: need 0 < sigma_min < sigma_max < ∞, got " + sigmaMin + " and "
          + sigmaMax);
    }
    if (fakeUpdates < 1) {
      throw new IllegalArgumentException("DMD: fake-score updates per generator update must be >= 1, got "
          + fakeUpdates);
    }
    this.generator = Objects.requireNonNull(generator, "generator");
    this.fake = Objects.requireNonNull(fake, "fake");
    this.teacher = Objects.requireNonNull(teacher, "teacher");
    this.sigmaMin = sigmaMin;
    this.sigmaMax = sigmaMax;
    this.fakeObjective = Objects.requireNonNull(fakeObjective, "fakeObjective");
    this.fakeUpdates = fakeUpdates;
    this.regression = null;
  }

  private DistributionMatchingLoss(DistributionMatchingLoss o, Regression r) {
    this.generator = o.generator;
    this.fake = o.fake;
    this.teacher = o.teacher;
    this.sigmaMin = o.sigmaMin;
    this.sigmaMax = o.sigmaMax;
    this.fakeObjective = o.fakeObjective;
    this.fakeUpdates = o.fakeUpdates;
    this.regression = Objects.requireNonNull(r, "regression");
    this.generatorLr = o.generatorLr;
  }

  /**
   * The generator's learning rate as a multiple of the run's (the fake score's), e.g. 0.2: the generator
   * then moves slower than the fake score can follow it.
   */
  public DistributionMatchingLoss generatorLrScale(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("DMD generator learning-rate scale must be finite and > 0, got " + scale);
    }
    this.generatorLr = scale;
    return this;
  }

  @Override
  public double lrScale(String network) {
    return network.equals(generator) ? generatorLr : 1;
  }

  /** This loss plus DMD's regression loss on the given pairs. */
  public DistributionMatchingLoss withRegression(Regression r) {
    return new DistributionMatchingLoss(this, r);
  }

  /** Whether step k updates the generator. */
  public boolean generatorStep(long k) {
    return k % fakeUpdates == fakeUpdates - 1;
  }

  @Override
  public Set<String> updates(long step) {
    return generatorStep(step) ? null : Set.of(fake);
  }

  /** σ's on the Karras (ρ = 7) spacing, uniform over its middle 96%. */
  public double[] drawSigmas(int n, SplittableRandom rng) {
    double a = Math.pow(sigmaMax, 1 / 7.0);
    double b = Math.pow(sigmaMin, 1 / 7.0);
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      double u = 0.02 + 0.96 * rng.nextDouble();
      s[i] = Math.pow(a + u * (b - a), 7);
    }
    return s;
  }

  /**
   * The distribution-matching gradient in x per example, {@code w (D_fake(x̂) − D_real(x̂))}, detached.
   *
   * @param x generator samples (detached here)
   * @param eps standard normals like x
   */
  public static NDArray matchingGradient(Denoiser real, Denoiser fakeScore, NDArray x, double[] sigma, NDArray eps,
      Conditioning c) {
    int n = sigma.length;
    NDArray xs = x.stopGradient();
    NDArray xHat = xs.add(eps.mul(TeacherStep.column(xs, sigma)));
    NDArray dReal = real.denoise(xHat, sigma, c).stopGradient();
    NDArray dFake = fakeScore.denoise(xHat, sigma, c).stopGradient();
    long d = x.size() / n;
    long[] b = new long[x.getShape().dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = n;
    NDArray w = xs.sub(dReal).abs().reshape(n, d).mean(new int[] {1}).add(1e-8).reshape(new ai.djl.ndarray.types.Shape(b));
    return dFake.sub(dReal).div(w).toType(x.getDataType(), false).stopGradient();
  }

  /** Mean square of the generator on a batch of regression pairs against the teacher's solutions. */
  private NDArray regressionLoss(StepContext ctx, NetworkDenoiser gen, Conditioning c) {
    int b = regression.batch();
    int m = regression.pairs();
    int d = regression.z().length / m;
    double[] z = new double[b * d];
    double[] y = new double[b * d];
    for (int i = 0; i < b; i++) {
      int k = ctx.rng().nextInt(m);
      System.arraycopy(regression.z(), k * d, z, i * d, d);
      System.arraycopy(regression.y(), k * d, y, i * d, d);
    }
    long[] shape = new long[regression.shape().length + 1];
    shape[0] = b;
    System.arraycopy(regression.shape(), 0, shape, 1, regression.shape().length);
    ai.djl.ndarray.types.Shape sh = new ai.djl.ndarray.types.Shape(shape);
    NDArray zs = ctx.manager().create(z, sh).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
    NDArray ys = ctx.manager().create(y, sh).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
    // Unconditional pairs: the regression batch has no labels of its own.
    if (c.labels() != null) {
      throw new IllegalArgumentException("DMD's regression loss is built for unconditional teachers; this batch has "
          + "labels");
    }
    NDArray x = gen.forward(ctx.parameters(), true, zs, Denoiser.constant(b, sigmaMax), Conditioning.NONE).denoised();
    return x.sub(ys).square().mean();
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray like = ctx.batch().x();
    int n = Math.toIntExact(like.getShape().get(0));
    Conditioning c = ctx.conditioning();
    NetworkDenoiser gen = ctx.trainable(generator);
    NetworkDenoiser fakeNet = ctx.trainable(fake);
    boolean genStep = generatorStep(ctx.step());
    NDArray z = Scalars.mul(ctx.normals(like), sigmaMax);
    double[] top = Denoiser.constant(n, sigmaMax);
    ParameterStore ps = ctx.parameters();
    NDArray x = genStep ? gen.forward(ps, true, z, top, c).denoised()
        : gen.forward(new ParameterStore(ctx.manager(), false), false, z, top, c).denoised().stopGradient();
    Map<String, Double> metrics = new LinkedHashMap<>();
    NDArray xs = x.stopGradient();
    double[] sf = drawSigmas(n, ctx.rng());
    NDArray fakeLoss = fakeObjective.perExampleLoss(fakeNet.forward(ps, true, ctx.noisy(xs, sf, ctx.normals(xs)), sf, c),
        xs, sf).mean();
    metrics.put("fake", fakeLoss.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
    NDArray loss = fakeLoss;
    if (genStep) {
      double[] sg = drawSigmas(n, ctx.rng());
      Denoiser fakeScore = (xx, s, cc) -> fakeNet.forward(new ParameterStore(ctx.manager(), false), false, xx, s, cc)
          .denoised().stopGradient();
      NDArray grad = matchingGradient(ctx.frozen(teacher), fakeScore, xs, sg, ctx.normals(xs), c);
      NDArray genLoss = Scalars.mul(x.sub(xs.sub(grad).stopGradient()).square().mean(), 0.5);
      metrics.put("dm", genLoss.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
      loss = loss.add(genLoss);
      if (regression != null) {
        NDArray reg = regressionLoss(ctx, gen, c);
        metrics.put("reg", reg.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble());
        loss = loss.add(Scalars.mul(reg, regression.weight()));
      }
    }
    return new Value(loss, metrics);
  }
}
