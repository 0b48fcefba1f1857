package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.reflect.Field;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps a sampling forward from recording an autograd graph on any thread. libtorch's grad mode is
 * thread-local and on by default; DJL switches it off on the thread that loads the engine and on again
 * only inside a {@code GradientCollector}. Every other thread — a {@code Sampling} worker, a Spark task —
 * starts with it on, so a forward through a trained network (whose parameters require gradients) there
 * records a graph and keeps every activation for a backward that never comes: more memory and time for
 * each step. PyTorch code says {@code torch.no_grad()} around sampling for the same reason.
 *
 * <p>A forward inside an open {@code GradientCollector} still records (posterior-sampling and reward
 * guidance differentiate through the denoiser). Whether one is open is DJL's own flag; if this DJL
 * build does not have it, nothing is changed (the old behaviour, never a wrong gradient).
 */
public final class InferenceMode implements AutoCloseable {
  private static final InferenceMode NOTHING = new InferenceMode(false);
  private static final AtomicBoolean COLLECTING = collectingFlag();

  private final boolean restore;

  private InferenceMode(boolean restore) {
    this.restore = restore;
  }

  /** Turns grad mode off on this thread for the forward on {@code x} unless a collector is open. */
  public static InferenceMode enter(NDArray x) {
    return enter(x.getManager());
  }

  /** As {@link #enter(NDArray)}, for a forward on arrays of {@code m}'s engine. */
  public static InferenceMode enter(NDManager m) {
    if (COLLECTING == null || COLLECTING.get() || !TorchScript.isTorch(m)
        || !JniUtils.isGradMode()) {
      return NOTHING;
    }
    JniUtils.setGradMode(false);
    return new InferenceMode(true);
  }

  @Override
  public void close() {
    if (restore) {
      JniUtils.setGradMode(true);
    }
  }

  private static AtomicBoolean collectingFlag() {
    try {
      Field f = Class.forName("ai.djl.pytorch.engine.PtGradientCollector").getDeclaredField("isCollecting");
      f.setAccessible(true);
      return (AtomicBoolean) f.get(null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }
}
