package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * One round of progressive distillation (Salimans &amp; Ho 2022, Algorithm 2), in x̂ and σ: the student,
 * sampled with DDIM on the N-step grid σ_0 &gt; … &gt; σ_N, learns at each σ_k = s the x0-prediction
 * x̃ whose single DDIM step s → t = σ_{k+1} lands where two teacher DDIM steps s → u → t land, u the
 * midpoint of s and t in σ^{1/ρ} (ρ = 7, the spacing of the Karras grid):
 * <pre>
 *   x̂_u = x̂_s + (u − s)(x̂_s − D_φ(x̂_s; s))/s,   x̂_t = x̂_u + (t − u)(x̂_u − D_φ(x̂_u; u))/u,
 *   x̃ = (s x̂_t − t x̂_s)/(s − t),   L = E w(s)·‖D_θ(x̂_s; s) − x̃‖²/D,   w = max(1/s², 1)
 * </pre>
 * (their eq. 8 target in EDM coordinates; w the "truncated SNR" weighting, SNR = 1/σ²). The student
 * starts from the teacher; the next round makes it the teacher and halves N.
 *
 * <p>With a guidance range ({@link #withGuidance}) this is stage two of guided distillation (Meng et al.
 * 2023, "On Distillation of Guided Diffusion Models", §3.1): teacher and student take a guidance scale
 * w, drawn per sample uniformly from the range, and the student learns the teacher's two steps at the
 * same w.
 */
public final class ProgressiveDistillationLoss implements TrainingLoss {
  private final String student;
  private final String teacher;
  private final double[] grid;
  private final double guidanceLo;
  private final double guidanceHi;

  /**
   * @param grid the student's sampling grid, strictly decreasing, last point ≥ 0 (e.g. the Karras grid)
   */
  public ProgressiveDistillationLoss(String student, String teacher, double[] grid) {
    this(student, teacher, grid, 0, 0);
  }

  private ProgressiveDistillationLoss(String student, String teacher, double[] grid, double lo, double hi) {
    if (grid.length < 2) {
      throw new IllegalArgumentException("progressive distillation needs a grid of >= 2 points, got " + grid.length);
    }
    for (int i = 1; i < grid.length; i++) {
      if (!(grid[i] < grid[i - 1] && grid[i] >= 0)) {
        throw new IllegalArgumentException("the student grid must decrease strictly to >= 0, got " + grid[i - 1]
            + " then " + grid[i]);
      }
    }
    this.student = student;
    this.teacher = teacher;
    this.grid = grid.clone();
    this.guidanceLo = lo;
    this.guidanceHi = hi;
  }

  /** This round for guidance-conditioned teacher and student, w uniform in [lo, hi] per sample. */
  public ProgressiveDistillationLoss withGuidance(double lo, double hi) {
    GuidedDistillationLoss.checkRange(lo, hi);
    return new ProgressiveDistillationLoss(student, teacher, grid, lo, hi);
  }

  /** The midpoint of s and t in σ^{1/7}. */
  public static double midpoint(double s, double t) {
    return Math.pow((Math.pow(s, 1 / 7.0) + Math.pow(t, 1 / 7.0)) / 2, 7);
  }

  /**
   * The target x̃ of two teacher DDIM steps s → u → t from x̂_s, per sample.
   */
  public static NDArray target(Denoiser teacherNet, NDArray xs, double[] s, double[] u, double[] t, Conditioning c) {
    NDArray xu = TeacherStep.EULER.step(teacherNet, xs, s, u, c);
    NDArray xt = TeacherStep.EULER.step(teacherNet, xu, u, t, c);
    double[] a = new double[s.length];
    double[] b = new double[s.length];
    for (int i = 0; i < s.length; i++) {
      a[i] = s[i] / (s[i] - t[i]);
      b[i] = -t[i] / (s[i] - t[i]);
    }
    return xt.mul(TeacherStep.column(xs, a)).add(xs.mul(TeacherStep.column(xs, b)));
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    double[] s = new double[n];
    double[] u = new double[n];
    double[] t = new double[n];
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      int k = ctx.rng().nextInt(grid.length - 1);
      s[i] = grid[k];
      t[i] = grid[k + 1];
      u[i] = midpoint(s[i], t[i]);
      w[i] = Math.max(1 / (s[i] * s[i]), 1);
    }
    NDArray eps = ctx.normals(x0);
    NDArray xs = x0.add(eps.mul(TeacherStep.column(x0, s)));
    Conditioning c = ctx.conditioning();
    if (guidanceHi > guidanceLo) {
      c = c.withGuidance(GuidedDistillationLoss.drawScales(n, guidanceLo, guidanceHi, ctx.rng()));
    }
    NDArray want = target(ctx.frozen(teacher), xs, s, u, t, c).stopGradient();
    NetworkDenoiser net = ctx.trainable(student);
    NDArray got = net.forward(ctx.parameters(), true, xs, s, c).denoised();
    long d = x0.size() / n;
    NDArray sq = got.sub(want).square().reshape(n, d).mean(new int[] {1});
    NDArray loss = sq.mul(x0.getManager().create(w).toType(sq.getDataType(), false)).mean();
    return new Value(loss, Map.of("mse", (double) sq.mean().getFloat()));
  }
}
