package org.diffusion4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.diffusion4j.device.Devices;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * The models of one executor JVM, loaded on first use and kept for every later task of that executor (a
 * task's partition then costs only its sampling). Tasks running at once in one executor share the weights:
 * inference reads them and creates its arrays in the task's own managers.
 */
public final class ExecutorModels {
  private static final Map<String, TrainedModel> RUNS = new HashMap<>();
  private static MnistClassifier classifier;
  private static final AtomicInteger LOADS = new AtomicInteger();

  private ExecutorModels() {}

  /** The run at {@code dir} with the chosen weights on {@code device}, loaded once per JVM. */
  public static synchronized TrainedModel run(String dir, boolean ema, String device) {
    String key = dir + "|" + ema + "|" + device;
    TrainedModel m = RUNS.get(key);
    if (m == null) {
      try {
        m = TrainedModel.load(Path.of(dir), ema, Devices.parse(device));
      } catch (IOException e) {
        throw new UncheckedIOException("loading run " + dir + " on an executor: " + e.getMessage(), e);
      }
      RUNS.put(key, m);
      LOADS.incrementAndGet();
    }
    return m;
  }

  /** The shipped MNIST feature network, loaded once per JVM. */
  public static synchronized MnistClassifier classifier() {
    if (classifier == null) {
      classifier = MnistClassifier.shipped();
    }
    return classifier;
  }

  /** Runs loaded by this JVM so far. */
  public static int loads() {
    return LOADS.get();
  }

  /** Closes every model of this JVM (tests; an executor keeps its models until it exits). */
  public static synchronized void closeAll() {
    RUNS.values().forEach(TrainedModel::close);
    RUNS.clear();
    if (classifier != null) {
      classifier.close();
      classifier = null;
    }
  }
}
