package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * One scope per sampler step: every NDArray created inside is closed when the scope closes, except
 * those passed to {@link #keep}. This keeps long loops flat in memory (house style 15): a DJL result
 * attaches to its first operand's manager, so without a scope a loop's intermediates pile up there.
 */
public final class StepScope implements AutoCloseable {
  private final NDScope scope = new NDScope();

  /** Marks {@code a} as surviving the step; the caller then owns (and eventually closes) it. */
  public NDArray keep(NDArray a) {
    NDScope.unregister(a);
    return a;
  }

  @Override
  public void close() {
    scope.close();
  }
}
