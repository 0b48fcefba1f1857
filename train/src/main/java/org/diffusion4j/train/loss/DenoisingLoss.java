package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Denoising score matching with an {@link Objective}: draw σ per example from the objective's draw and
 * ε ~ N(0, I), and regress the preconditioned network on {@code λ(σ)‖D(x0 + σε; σ) − x0‖²} (Karras et al.
 * 2022, eq. 2 and 8; Vincent 2011). Every classic objective (DDPM's L_simple, v-prediction, NCSN, EDM,
 * flow matching) is this loss with another {@link Objective}.
 *
 * <p>Class-conditional training drops each example's label to the null class ∅
 * ({@link Conditioning#NULL_LABEL}) with probability {@code labelDropout}, so one network learns both
 * the conditional and the unconditional model that classifier-free guidance combines (Ho &amp;
 * Salimans 2022, Algorithm 1; p_uncond = 0.1 there). The draws come from the step's generator, after
 * σ and ε, so a resumed run drops the same labels.
 *
 * @param objective weighting and σ-draw (its preconditioning is the trained network's)
 * @param model the trainable network's name
 * @param labelDropout probability in [0, 1) of replacing a label by ∅ (0: none)
 */
public record DenoisingLoss(Objective objective, String model, double labelDropout) implements TrainingLoss {

  /** The default label dropout of class-conditional training (Ho &amp; Salimans 2022). */
  public static final double DEFAULT_LABEL_DROPOUT = 0.1;

  public DenoisingLoss {
    if (!(labelDropout >= 0 && labelDropout < 1)) {
      throw new IllegalArgumentException("label dropout must be in [0, 1), got " + labelDropout);
    }
  }

  /** The loss of the single network of a run. */
  public DenoisingLoss(Objective objective) {
    this(objective, Trainer.MODEL);
  }

  /** No label dropout. */
  public DenoisingLoss(Objective objective, String model) {
    this(objective, model, 0);
  }

  /**
   * The labels with each replaced by ∅ with probability p, one draw per label from {@code rng} (none
   * when p = 0), so that the run's randomness does not change for unconditional or p = 0 runs.
   */
  public static long[] dropLabels(long[] labels, double p, SplittableRandom rng) {
    if (p == 0) {
      return labels;
    }
    long[] out = labels.clone();
    for (int i = 0; i < out.length; i++) {
      if (rng.nextDouble() < p) {
        out[i] = Conditioning.NULL_LABEL;
      }
    }
    return out;
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    double[] sigma = objective.draw().draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    NetworkDenoiser net = ctx.trainable(model);
    Conditioning c = ctx.conditioning();
    long[] labels = c.labels();
    if (labels != null && labelDropout > 0) {
      c = c.withLabels(dropLabels(labels, labelDropout, ctx.rng()));
    }
    NetworkDenoiser.Output out = net.forward(ctx.parameters(), true, xHat, sigma, c);
    return new Value(objective.perExampleLoss(out, x0, sigma).mean());
  }
}
