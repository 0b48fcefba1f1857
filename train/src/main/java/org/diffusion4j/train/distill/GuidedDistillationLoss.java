package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Stage one of guided distillation (Meng, Rombach, Gao, Kingma, Ermon, Ho &amp; Salimans 2023, "On
 * Distillation of Guided Diffusion Models", §3.1, eq. 4): a student D_θ(x̂; σ, c, w) that takes the
 * guidance scale w as an input learns the classifier-free-guided teacher at every w of a range,
 * <pre>
 *   L = E_{w ~ U[w_lo, w_hi], σ, x0, ε} λ(σ)‖D_θ(x̂; σ, c, w) − D_w(x̂; σ, c)‖²,
 *   D_w = D_φ(x̂; σ, ∅) + w (D_φ(x̂; σ, c) − D_φ(x̂; σ, ∅)),   x̂ = x0 + σ ε
 * </pre>
 * (their x̂^w_θ target in EDM coordinates; w as in {@code ClassifierFreeGuidance}: 1 the conditional
 * model, 0 the unconditional one), with the teacher's σ-draw and weighting λ(σ). Labels are dropped to ∅
 * with probability 0.1 as in the teacher's training, so the student also keeps the unconditional model
 * (whose target is D_φ(x̂; σ, ∅) at every w). Stage two halves the sampling steps by progressive
 * distillation of this student with w drawn from the same range ({@link ProgressiveDistillationLoss}
 * with a guidance range).
 */
public final class GuidedDistillationLoss implements TrainingLoss {
  private final String student;
  private final String teacher;
  private final Objective objective;
  private final double lo;
  private final double hi;

  /**
   * @param objective the teacher's objective (σ-draw and weighting)
   * @param lo the lowest guidance scale drawn
   * @param hi the highest, &gt; lo
   */
  public GuidedDistillationLoss(String student, String teacher, Objective objective, double lo, double hi) {
    checkRange(lo, hi);
    this.student = Objects.requireNonNull(student, "student");
    this.teacher = Objects.requireNonNull(teacher, "teacher");
    this.objective = Objects.requireNonNull(objective, "objective");
    this.lo = lo;
    this.hi = hi;
  }

  /** Checks a guidance range: finite, lo &lt; hi. */
  public static void checkRange(double lo, double hi) {
    if (!Double.isFinite(lo) || !Double.isFinite(hi) || !(hi > lo)) {
      throw new IllegalArgumentException("guidance range " + lo + "," + hi + " must be finite with lo < hi (e.g. 0,4)");
    }
  }

  /** n guidance scales uniform in [lo, hi]. */
  public static double[] drawScales(int n, double lo, double hi, SplittableRandom rng) {
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = lo + (hi - lo) * rng.nextDouble();
    }
    return w;
  }

  /**
   * The guided teacher {@code D(x̂; ∅) + w_i (D(x̂; c_i) − D(x̂; ∅))} per row, both halves in one batched
   * forward; rows labelled ∅ get {@code D(x̂; ∅)}.
   *
   * @param labels the rows' labels (∅ = {@link Conditioning#NULL_LABEL} allowed)
   * @param w the guidance scale per row
   */
  public static NDArray target(Denoiser teacherNet, NDArray x, double[] sigma, long[] labels, double[] w) {
    int n = sigma.length;
    if (labels == null || labels.length != n || w.length != n) {
      throw new IllegalArgumentException("guided distillation needs a label and a guidance scale per sample (" + n
          + " samples), got " + (labels == null ? "no labels" : labels.length + " labels") + " and " + w.length
          + " scales");
    }
    long[] none = new long[n];
    Arrays.fill(none, Conditioning.NULL_LABEL);
    double[] sigma2 = new double[2 * n];
    System.arraycopy(sigma, 0, sigma2, 0, n);
    System.arraycopy(sigma, 0, sigma2, n, n);
    long[] both = new long[2 * n];
    System.arraycopy(labels, 0, both, 0, n);
    System.arraycopy(none, 0, both, n, n);
    NDArray d = teacherNet.denoise(x.concat(x, 0), sigma2, Conditioning.NONE.withLabels(both));
    NDList halves = d.split(new long[] {n}, 0);
    NDArray dc = halves.get(0);
    NDArray du = halves.get(1);
    return du.add(dc.sub(du).mul(TeacherStep.column(x, w).toType(du.getDataType(), false)));
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    long[] labels = ctx.conditioning().labels();
    if (labels == null) {
      throw new IllegalArgumentException("guided distillation needs a class-conditional teacher and labelled data "
          + "(the data set gave no labels)");
    }
    double[] sigma = objective.draw().draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    double[] w = drawScales(n, lo, hi, ctx.rng());
    long[] dropped = DenoisingLoss.dropLabels(labels, DenoisingLoss.DEFAULT_LABEL_DROPOUT, ctx.rng());
    NDArray want = target(ctx.frozen(teacher), xHat, sigma, dropped, w).stopGradient();
    NetworkDenoiser net = ctx.trainable(student);
    Conditioning c = ctx.conditioning().withLabels(dropped).withGuidance(w);
    NetworkDenoiser.Output out = net.forward(ctx.parameters(), true, xHat, sigma, c);
    NDArray loss = objective.perExampleLoss(out, want, sigma).mean();
    return new Value(loss, Map.of());
  }
}
