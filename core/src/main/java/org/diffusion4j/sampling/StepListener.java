package org.diffusion4j.sampling;

/**
 * Observes a sampler run step by step; progress bars, trajectory recording and NFE counting are
 * listeners, not flags (house style 7).
 */
@FunctionalInterface
public interface StepListener {
  /** A listener that does nothing; samplers skip building {@link StepInfo} for it. */
  StepListener NONE = info -> {};

  /** Called after each step. */
  void onStep(StepInfo info);

  /** Both listeners, in order. */
  default StepListener andThen(StepListener next) {
    if (this == NONE) {
      return next;
    }
    if (next == NONE) {
      return this;
    }
    return info -> {
      onStep(info);
      next.onStep(info);
    };
  }
}
