package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Consistency Trajectory Models (Kim, Lai, Liao, Murata, Takida, Uesaka, He, Mitsufuji &amp; Ermon 2024,
 * "Consistency Trajectory Model: Learning Probability Flow ODE Trajectory of Diffusion"): a two-time model
 * {@code G_θ(x̂, σ, σ′) = (σ′/σ) x̂ + (1 − σ′/σ) g_θ(x̂, σ, σ′)} ({@link org.diffusion4j.denoiser.FlowMap}, their
 * eq. 5) learns the PF-ODE's map between any two levels with the soft-consistency loss (their eq. 6–7)
 * <pre>
 *   L_CTM = E ‖G_θ⁻(G_θ(x̂_t, t, s), s, 0) − G_θ⁻(G_θ⁻(Solver_{t→u}(x̂_t; φ), u, s), s, 0)‖²/D
 * </pre>
 * with t &gt; u ≥ s ≥ 0 drawn on N Karras levels plus 0 (t uniform, s uniform below t, u uniform in [s, t)),
 * the teacher φ solving from t to u with Heun steps along the levels ({@link TeacherStep}), θ⁻ the EMA
 * of θ, and both sides compared in data space (their choice; the paper's LPIPS is a plain mean square here).
 * The regulariser is denoising score matching on the model's own denoiser g_θ(x̂, σ, σ) (their eq. 8):
 * {@code L = L_CTM + λ_DSM·L_DSM} with EDM's weighting and σ-draw. The GAN term of the paper
 * (their eq. 9) is not built. Sampling is γ-sampling ({@link org.diffusion4j.sampling.flowmap.FlowMapSampler}).
 */
public final class TrajectoryConsistencyLoss implements TrainingLoss {

  /** The student's g as a differentiable function of (x̂, σ, σ′). */
  @FunctionalInterface
  public interface Model {
    NDArray g(NDArray x, double[] sigma, double[] sigmaTarget);
  }

  private final String student;
  private final String teacher;
  private final TeacherStep step;
  private final double[] levels;
  private final double dsmWeight;
  private final Objective dsm;

  /**
   * @param n the number of Karras levels N (≥ 2; 18)
   * @param dsmWeight λ_DSM ≥ 0 (1)
   * @param dsm the objective of the regulariser (EDM), or null when λ_DSM = 0
   */
  public TrajectoryConsistencyLoss(String student, String teacher, TeacherStep step, int n, double sigmaMin,
      double sigmaMax, double dsmWeight, Objective dsm) {
    if (n < 2) {
      throw new IllegalArgumentException("CTM needs N >= 2 levels, got " + n);
    }
    if (!(dsmWeight >= 0) || Double.isInfinite(dsmWeight)) {
      throw new IllegalArgumentException("CTM: the DSM weight must be finite and >= 0, got " + dsmWeight);
    }
    if (dsmWeight > 0 && dsm == null) {
      throw new IllegalArgumentException("CTM: a DSM weight > 0 needs the regulariser's objective");
    }
    this.student = Objects.requireNonNull(student, "student");
    this.teacher = Objects.requireNonNull(teacher, "teacher");
    this.step = Objects.requireNonNull(step, "step");
    double[] karras = ConsistencyLoss.distillation(student, teacher, step, n, sigmaMin, sigmaMax, false,
        ConsistencyLoss.Target.EMA).grid(n);
    this.levels = new double[n + 1];
    System.arraycopy(karras, 0, levels, 1, n);
    this.dsmWeight = dsmWeight;
    this.dsm = dsm;
  }

  /** The ascending levels 0 &lt; σ_min &lt; … &lt; σ_max, index 0 being σ = 0. */
  public double[] levels() {
    return levels.clone();
  }

  /** Index triples (t, u, s) per example, t &gt; u ≥ s ≥ 0: {@code int[3][n]}. */
  public int[][] drawIndices(int count, SplittableRandom rng) {
    int[][] idx = new int[3][count];
    int top = levels.length - 1;
    for (int i = 0; i < count; i++) {
      int t = 1 + rng.nextInt(top);
      int s = rng.nextInt(t);
      int u = s + rng.nextInt(t - s);
      idx[0][i] = t;
      idx[1][i] = u;
      idx[2][i] = s;
    }
    return idx;
  }

  /** G(x̂, σ, σ′) = (σ′/σ) x̂ + (1 − σ′/σ) g, identity on rows with σ′ = σ. */
  public static NDArray map(Model model, NDArray x, double[] sigma, double[] target) {
    int n = sigma.length;
    double[] ratio = new double[n];
    boolean identity = true;
    for (int i = 0; i < n; i++) {
      ratio[i] = target[i] == sigma[i] ? 1 : target[i] / sigma[i];
      identity &= ratio[i] == 1;
    }
    if (identity) {
      return x;
    }
    NDArray r = TeacherStep.column(x, ratio);
    return x.mul(r).add(model.g(x, sigma, target).mul(r.neg().add(1)));
  }

  /**
   * The teacher's Heun solve from levels[from] down to levels[to] along the levels, per example. Each
   * teacher step evaluates only the rows still moving: the rows are ordered by their number of steps
   * (most first), so that at step q the active ones are a prefix, and put back in their order at the end —
   * Σ(from − to) row-steps instead of n·max(from − to) (about 3× fewer teacher evaluations for u drawn
   * uniformly between s and t). A row's result does not depend on the others of its batch.
   */
  public NDArray solve(Denoiser teacherNet, NDArray x, int[] from, int[] to, Conditioning c) {
    int n = from.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (i, j) -> Integer.compare(from[j] - to[j], from[i] - to[i]));
    int most = n == 0 ? 0 : from[order[0]] - to[order[0]];
    if (most == 0) {
      return x;
    }
    boolean sorted = true;
    long[] perm = new long[n];
    long[] back = new long[n];
    Conditioning cs = c;
    for (int r = 0; r < n; r++) {
      perm[r] = order[r];
      back[order[r]] = r;
      sorted &= order[r] == r;
    }
    if (!sorted && !c.isEmpty()) {
      // The conditioning in the rows' new order (a batch of CTM is small: one row at a time is cheap).
      cs = c.slice(order[0], order[0] + 1);
      for (int r = 1; r < n; r++) {
        cs = Conditioning.concat(cs, c.slice(order[r], order[r] + 1));
      }
    }
    NDArray xs = sorted ? x : x.get(new NDIndex("{}", x.getManager().create(perm)));
    for (int q = 0; q < most; q++) {
      int k = 0;
      while (k < n && from[order[k]] - to[order[k]] > q) {
        k++;
      }
      double[] a = new double[k];
      double[] b = new double[k];
      for (int r = 0; r < k; r++) {
        int kk = from[order[r]] - q;
        a[r] = levels[kk];
        b[r] = levels[kk - 1];
      }
      if (k == n) {
        xs = step.step(teacherNet, xs, a, b, cs);
      } else {
        NDArray moved = step.step(teacherNet, xs.get(new NDIndex("0:" + k)), a, b, cs.slice(0, k));
        xs = moved.concat(xs.get(new NDIndex(k + ":")), 0);
      }
    }
    return sorted ? xs : xs.get(new NDIndex("{}", x.getManager().create(back)));
  }

  /**
   * The per-example soft-consistency residual, shape {@code [n]}.
   *
   * @param model the student's g (differentiable)
   * @param target the EMA student's g (its parameters receive no gradient; its input may carry one)
   * @param idx (t, u, s) level indices
   */
  public NDArray residual(Model model, Model target, Denoiser teacherNet, NDArray x0, NDArray eps, int[][] idx,
      Conditioning c) {
    int n = idx[0].length;
    double[] t = new double[n];
    double[] u = new double[n];
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      t[i] = levels[idx[0][i]];
      u[i] = levels[idx[1][i]];
      s[i] = levels[idx[2][i]];
    }
    double[] zero = new double[n];
    NDArray xt = x0.add(eps.mul(TeacherStep.column(x0, t)));
    NDArray xu = solve(teacherNet, xt, idx[0], idx[1], c).stopGradient();
    NDArray want = map(target, map(target, xu, u, s), s, zero).stopGradient();
    NDArray got = map(target, map(model, xt, t, s), s, zero);
    long d = x0.size() / n;
    return got.sub(want).square().reshape(n, d).mean(new int[] {1});
  }

  private static Model model(NetworkDenoiser net, ai.djl.training.ParameterStore ps, boolean training, Conditioning c) {
    return (x, sigma, target) -> net.forward(ps, training, x, sigma, c.withSigmaTarget(target)).denoised();
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    Conditioning c = ctx.conditioning();
    NetworkDenoiser net = ctx.trainable(student);
    NetworkDenoiser ema = ctx.target(student);
    int[][] idx = drawIndices(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray ctm = residual(model(net, ctx.parameters(), true, c),
        model(ema, new ai.djl.training.ParameterStore(ctx.manager(), false), false, c), ctx.frozen(teacher), x0, eps,
        idx, c).mean();
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("ctm", (double) ctm.getFloat());
    NDArray loss = ctm;
    if (dsmWeight > 0) {
      double[] sigma = dsm.draw().draw(n, ctx.rng());
      NDArray e2 = ctx.normals(x0);
      NDArray per = dsm.perExampleLoss(net.forward(ctx.parameters(), true, ctx.noisy(x0, sigma, e2), sigma, c), x0,
          sigma);
      NDArray l = per.mean();
      metrics.put("dsm", (double) l.getFloat());
      loss = loss.add(Scalars.mul(l, dsmWeight));
    }
    return new Value(loss, metrics);
  }
}
