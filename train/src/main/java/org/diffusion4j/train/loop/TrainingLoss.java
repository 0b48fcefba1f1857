package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * What a training run learns: given a step's context — its batch, its generator, the trainable,
 * frozen and target networks — a scalar loss to minimise and named metrics to log (EDM's
 * {@code loss_fn(net, images, labels)}, Karras et al. 2022). The {@link Trainer} owns everything else:
 * the step's memory scope, the generator seeded by (seed, step), gradient accumulation, clipping, the
 * optimiser, EMA, checkpoints of every trainable network and exact resume.
 *
 * <p>Denoising score matching with any objective is {@link org.diffusion4j.train.loss.DenoisingLoss};
 * classifier, distillation, consistency, Mean Flow, reflow and preference losses are further classes
 * of this interface, never further loops.
 *
 * <p>{@link #compute} runs inside the trainer's {@code GradientCollector}; it must draw all its
 * randomness from {@link StepContext#rng()} (so resume is exact) and create its arrays in
 * {@link StepContext#manager()}.
 */
@FunctionalInterface
public interface TrainingLoss {

  /** A micro-batch's loss (a scalar NDArray in the graph) and its metrics for the log. */
  record Value(NDArray loss, Map<String, Double> metrics) {
    public Value(NDArray loss) {
      this(loss, Map.of());
    }
  }

  /** The loss of the context's micro-batch. */
  Value compute(StepContext context);

  /**
   * The trainable networks that step {@code step} updates, or null for all of them (the default). A
   * network left out takes no optimiser step and no EMA update at that step (its gradient is
   * discarded), so a loss can alternate phases: the generator and fake-score updates of distribution
   * matching distillation at a ratio of 1 : K (Yin et al. 2024, "Improved Distribution Matching
   * Distillation", two time-scale updates). Must depend on the step only (resume is exact).
   */
  default java.util.Set<String> updates(long step) {
    return null;
  }

  /**
   * The factor on the run's learning rate for the trainable network {@code network} (1, the default):
   * a loss can give its networks different rates, as DMD gives its generator a smaller one than its
   * fake score. Constant over the run (resume is exact).
   */
  default double lrScale(String network) {
    return 1;
  }
}
