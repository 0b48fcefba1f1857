package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Discrete-time consistency models (Song, Dhariwal, Chen &amp; Sutskever 2023, "Consistency Models"):
 * on the Karras grid σ_min = σ_1 &lt; … &lt; σ_N = σ_max (ρ = 7), with {@code x̂_{i+1} = x0 + σ_{i+1} ε},
 * <pre>
 *   L = E_i λ(σ_i) d(f_θ(x̂_{i+1}, σ_{i+1}), f_θ⁻(x̂_i, σ_i))
 * </pre>
 * where {@code x̂_i} is one teacher ODE step from {@code x̂_{i+1}} (consistency distillation, CD, their
 * eq. 7 and Algorithm 2) or {@code x0 + σ_i ε} with the same x0 and ε (consistency training, CT, eq. 10,
 * Algorithm 3). The student f_θ should carry the boundary-condition parameterisation
 * ({@code Preconditioning.Consistency}, f(x̂, σ_min) = x̂); θ⁻ is the trainer's EMA copy ({@link Target#EMA})
 * or the student itself without gradient ({@link Target#STOPGRAD}).
 *
 * <p>Consistency training follows the improved recipe of Song &amp; Dhariwal 2024 ("Improved Techniques
 * for Training Consistency Models"): N(k) = min(s0·2^⌊k/K′⌋, s1) + 1 with K′ = ⌊K/(log₂⌊s1/s0⌋ + 1)⌋,
 * s0 = 10, s1 = 1280 (their eq. 5); i drawn with probability ∝ erf((ln σ_{i+1} − P_mean)/(√2 P_std)) −
 * erf((ln σ_i − P_mean)/(√2 P_std)), P_mean = −1.1, P_std = 2 (eq. 6); λ(σ_i) = 1/(σ_{i+1} − σ_i);
 * the pseudo-Huber metric d(a, b) = sqrt(‖a − b‖² + c²) − c with c = 0.00054·sqrt(D) (eq. 4); and
 * θ⁻ = stopgrad(θ). Distillation defaults to Song et al. 2023's CD: N = 18, i uniform, λ = 1.
 */
public final class ConsistencyLoss implements TrainingLoss {

  /** Which network gives the target f_θ⁻. */
  public enum Target {
    /** The trainer's EMA of the student (needs a twin factory). */
    EMA,
    /** The student's current weights, without gradient (Song &amp; Dhariwal 2024). */
    STOPGRAD
  }

  /** The student's training forward f_θ(x̂, σ) (differentiable). */
  @FunctionalInterface
  public interface Model {
    NDArray apply(NDArray x, double[] sigma);
  }

  /** Improved-CT discretisation bounds s0, s1 and lognormal index parameters. */
  public static final int S0 = 10;
  public static final int S1 = 1280;
  public static final double P_MEAN = -1.1;
  public static final double P_STD = 2.0;

  private final String student;
  private final String teacher;
  private final TeacherStep step;
  private final int fixedN;
  private final long totalSteps;
  private final double sigmaMin;
  private final double sigmaMax;
  private final double rho;
  private final boolean pseudoHuber;
  private final Target target;

  private ConsistencyLoss(String student, String teacher, TeacherStep step, int fixedN, long totalSteps,
      double sigmaMin, double sigmaMax, double rho, boolean pseudoHuber, Target target) {
    if (!(sigmaMin > 0 && sigmaMin < sigmaMax) || Double.isInfinite(sigmaMax)) {
      throw new IllegalArgumentException("consistency loss: need 0 < sigma_min < sigma_max < ∞, got " + sigmaMin
          + " and " + sigmaMax);
    }
    if (!(rho > 0) || Double.isInfinite(rho)) {
      throw new IllegalArgumentException("consistency loss: rho must be finite and > 0, got " + rho);
    }
    this.student = student;
    this.teacher = teacher;
    this.step = step;
    this.fixedN = fixedN;
    this.totalSteps = totalSteps;
    this.sigmaMin = sigmaMin;
    this.sigmaMax = sigmaMax;
    this.rho = rho;
    this.pseudoHuber = pseudoHuber;
    this.target = target;
  }

  /**
   * Consistency distillation of the frozen network {@code teacher} into trainable {@code student}.
   *
   * @param n the number of grid points N (≥ 2; 18 in Song et al. 2023)
   * @param pseudoHuber the pseudo-Huber metric instead of the mean squared error
   */
  public static ConsistencyLoss distillation(String student, String teacher, TeacherStep step, int n,
      double sigmaMin, double sigmaMax, boolean pseudoHuber, Target target) {
    if (n < 2) {
      throw new IllegalArgumentException("consistency distillation needs N >= 2 grid points, got " + n);
    }
    return new ConsistencyLoss(student, java.util.Objects.requireNonNull(teacher, "teacher"),
        java.util.Objects.requireNonNull(step, "step"), n, 0, sigmaMin, sigmaMax, 7, pseudoHuber, target);
  }

  /**
   * Improved consistency training from scratch of {@code student} over {@code totalSteps} optimiser steps
   * (the N(k) schedule needs K), pseudo-Huber metric, θ⁻ = stopgrad(θ).
   */
  public static ConsistencyLoss training(String student, long totalSteps, double sigmaMin, double sigmaMax) {
    if (totalSteps < 1) {
      throw new IllegalArgumentException("consistency training needs the total steps K >= 1, got " + totalSteps);
    }
    return new ConsistencyLoss(student, null, null, 0, totalSteps, sigmaMin, sigmaMax, 7, true, Target.STOPGRAD);
  }

  /** Whether this is distillation (else training from scratch). */
  public boolean distills() {
    return teacher != null;
  }

  /** N at optimiser step k: fixed for distillation, the improved-CT schedule for training. */
  public int discretisation(long k) {
    if (fixedN > 0) {
      return fixedN;
    }
    long kPrime = (long) Math.floor(totalSteps / (Math.floor(Math.log(S1 / (double) S0) / Math.log(2)) + 1));
    long doublings = kPrime < 1 ? 0 : k / kPrime;
    double n = Math.min(S0 * Math.pow(2, Math.min(doublings, 30)), S1);
    return (int) n + 1;
  }

  /** The Karras grid σ_1 = σ_min &lt; … &lt; σ_N = σ_max (ascending). */
  public double[] grid(int n) {
    double[] g = new double[n];
    double a = Math.pow(sigmaMin, 1 / rho);
    double b = Math.pow(sigmaMax, 1 / rho);
    for (int i = 0; i < n; i++) {
      g[i] = Math.pow(a + i / (double) (n - 1) * (b - a), rho);
    }
    g[0] = sigmaMin;
    g[n - 1] = sigmaMax;
    return g;
  }

  /**
   * Draws the lower index i ∈ [0, N−2] of each example: uniform for distillation, the discretised
   * lognormal of Song &amp; Dhariwal 2024 for training.
   */
  public int[] drawIndices(int count, double[] grid, SplittableRandom rng) {
    int m = grid.length - 1;
    int[] idx = new int[count];
    if (distills()) {
      for (int j = 0; j < count; j++) {
        idx[j] = rng.nextInt(m);
      }
      return idx;
    }
    double[] cdf = new double[m];
    double total = 0;
    for (int i = 0; i < m; i++) {
      total += erf((Math.log(grid[i + 1]) - P_MEAN) / (Math.sqrt(2) * P_STD))
          - erf((Math.log(grid[i]) - P_MEAN) / (Math.sqrt(2) * P_STD));
      cdf[i] = total;
    }
    for (int j = 0; j < count; j++) {
      double u = rng.nextDouble() * total;
      int i = 0;
      while (i < m - 1 && cdf[i] <= u) {
        i++;
      }
      idx[j] = i;
    }
    return idx;
  }

  /**
   * The per-example weighted residual λ(σ_i) d(f_θ(x̂_{i+1}, σ_{i+1}), f_θ⁻(x̂_i, σ_i)), shape {@code [n]}.
   *
   * @param model f_θ (training forward)
   * @param targetNet f_θ⁻ (its output is detached here)
   * @param teacherNet the teacher denoiser (distillation only; ignored for training)
   * @param x0 data {@code [n, …]}
   * @param eps standard normals like x0
   * @param grid the ascending grid
   * @param idx lower index per example
   * @param c the batch's conditioning
   */
  public NDArray residual(Model model, Denoiser targetNet, Denoiser teacherNet, NDArray x0, NDArray eps,
      double[] grid, int[] idx, Conditioning c) {
    int n = idx.length;
    double[] hi = new double[n];
    double[] lo = new double[n];
    double[] w = new double[n];
    for (int j = 0; j < n; j++) {
      if (idx[j] < 0 || idx[j] > grid.length - 2) {
        throw new IllegalArgumentException("grid index " + idx[j] + " outside [0, " + (grid.length - 2) + "]");
      }
      hi[j] = grid[idx[j] + 1];
      lo[j] = grid[idx[j]];
      w[j] = distills() ? 1 : 1 / (hi[j] - lo[j]);
    }
    NDArray xHi = x0.add(eps.mul(TeacherStep.column(x0, hi)));
    NDArray xLo = distills() ? step.step(teacherNet, xHi, hi, lo, c).stopGradient()
        : x0.add(eps.mul(TeacherStep.column(x0, lo)));
    NDArray want = targetNet.denoise(xLo, lo, c).stopGradient();
    NDArray got = model.apply(xHi, hi);
    long d = x0.size() / n;
    NDArray sq = got.sub(want).square().reshape(n, d).sum(new int[] {1});
    NDArray dist;
    if (pseudoHuber) {
      double cc = 0.00054 * Math.sqrt(d);
      dist = sq.add(cc * cc).sqrt().sub(cc);
    } else {
      dist = Scalars.div(sq, d);
    }
    return dist.mul(x0.getManager().create(w).toType(dist.getDataType(), false));
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    int bigN = discretisation(ctx.step());
    double[] g = grid(bigN);
    int[] idx = drawIndices(n, g, ctx.rng());
    NDArray eps = ctx.normals(x0);
    Conditioning c = ctx.conditioning();
    NetworkDenoiser net = ctx.trainable(student);
    Model model = (x, s) -> net.forward(ctx.parameters(), true, x, s, c).denoised();
    Denoiser targetNet = target == Target.EMA ? ctx.target(student)
        : (x, s, cc) -> net.forward(ctx.parameters(), false, x, s, cc).denoised().stopGradient();
    Denoiser teacherNet = distills() ? ctx.frozen(teacher) : null;
    NDArray per = residual(model, targetNet, teacherNet, x0, eps, g, idx, c);
    NDArray loss = per.mean();
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("N", (double) bigN);
    return new Value(loss, metrics);
  }

  /** erf by Abramowitz &amp; Stegun 7.1.26 (absolute error below 1.5e-7), odd extension. */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
        * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  }
}
