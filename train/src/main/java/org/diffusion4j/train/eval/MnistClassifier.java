package org.diffusion4j.train.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.Safetensors;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.CrossEntropyLoss;
import org.diffusion4j.train.nn.InferenceMode;
import org.diffusion4j.train.nn.MnistCnn;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * The project's MNIST feature network: a trained {@link MnistCnn} giving class probabilities and its
 * 128 penultimate features for images {@code [1, 28, 28]} on [−1, 1]. The weights shipped with the
 * library ({@link #shipped()}) were produced by {@code d4j train-feature-net} (then called {@code train-classifier}); their provenance is in
 * the file's metadata ({@link #metadata()}).
 */
public final class MnistClassifier implements AutoCloseable {
  /** Classpath location of the shipped weights. */
  public static final String RESOURCE = "/org/diffusion4j/train/eval/mnist-classifier.safetensors";
  private static final int PIXELS = 28 * 28;

  private final NDManager manager;
  private final MnistCnn net;
  private final Map<String, String> metadata;

  private MnistClassifier(NDManager manager, MnistCnn net, Map<String, String> metadata) {
    this.manager = manager;
    this.net = net;
    this.metadata = Map.copyOf(metadata);
  }

  private static MnistCnn newNetwork(NDManager m) {
    MnistCnn net = new MnistCnn();
    net.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
    return net;
  }

  /** The weights shipped in the library. */
  public static MnistClassifier shipped() {
    try (InputStream in = MnistClassifier.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the shipped MNIST classifier " + RESOURCE + " is missing from the classpath");
      }
      return of(Safetensors.parse(in.readAllBytes(), RESOURCE));
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + RESOURCE + ": " + e.getMessage(), e);
    }
  }

  /** Weights from a safetensors file written by {@link #save}. */
  public static MnistClassifier load(Path file) throws IOException {
    return of(Safetensors.read(file));
  }

  private static MnistClassifier of(Safetensors.Contents c) {
    NDManager m = org.diffusion4j.device.Devices.newManager();
    try {
      MnistCnn net = newNetwork(m);
      Trainer.loadInto(Trainer.parameters(net), c.tensors(), "MNIST classifier");
      return new MnistClassifier(m, net, c.metadata());
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
  }

  /**
   * Trains a classifier with the project's {@link Trainer} (cross-entropy, AdamW, cosine learning rate,
   * EMA) and returns it with the EMA weights.
   *
   * @param train labelled MNIST training data
   * @param steps optimiser steps
   * @param batch examples per step
   * @param lr peak learning rate
   * @param seed the run's seed
   * @param runDir the trainer's run directory (checkpoints)
   * @param listener progress (may be null)
   */
  public static MnistClassifier train(DataSource train, long steps, int batch, double lr, long seed, Path runDir,
      Trainer.Listener listener) throws IOException {
    if (!train.hasLabels() || train.classes() != MnistCnn.CLASSES) {
      throw new IllegalArgumentException("classifier training needs labelled MNIST data (10 classes), got "
          + train.describe());
    }
    if (!java.util.Arrays.equals(train.sampleShape(), new long[] {1, 28, 28})) {
      throw new IllegalArgumentException("classifier training needs [1, 28, 28] images, got "
          + java.util.Arrays.toString(train.sampleShape()));
    }
    NDManager m = org.diffusion4j.device.Devices.newManager();
    try {
      MnistCnn net = newNetwork(m);
      Trainer.Options opt = new Trainer.Options(steps, batch, 1, LrSchedule.cosine(lr, Math.min(200, steps / 10), steps),
          0, new Ema.WarmUp(0.999), seed, 50, (int) Math.min(Integer.MAX_VALUE, steps));
      // The Trainer holds networks as denoisers; the loss uses only the raw block.
      NetworkDenoiser holder = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      new Trainer(Map.of(Trainer.MODEL, holder), Map.of(), Map.of(), new CrossEntropyLoss(Trainer.MODEL, MnistCnn.CLASSES),
          Trainer.Batches.of(train, true), opt, runDir, "{\"kind\":\"mnist-classifier\"}", listener).run(false);
      Trainer.loadInto(Trainer.parameters(net), Checkpoint.readWeights(runDir, true), "EMA weights");
      return new MnistClassifier(m, net, Map.of());
    } catch (RuntimeException | IOException e) {
      m.close();
      throw e;
    }
  }

  /** Writes the weights as safetensors with {@code metadata} (provenance). */
  public void save(Path file, Map<String, String> metadata) throws IOException {
    Safetensors.writeArrays(file, Trainer.parameters(net), new LinkedHashMap<>(metadata));
  }

  /** The weights file's metadata (command, accuracy, date of the shipped weights). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Features and class probabilities of n images.
   *
   * @param features {@code [n·128]} penultimate activations
   * @param probabilities {@code [n·10]} softmax probabilities
   */
  public record Output(double[] features, double[] probabilities) {
    /** The most probable class of image i. */
    public int label(int i) {
      int best = 0;
      for (int k = 1; k < MnistCnn.CLASSES; k++) {
        if (probabilities[i * MnistCnn.CLASSES + k] > probabilities[i * MnistCnn.CLASSES + best]) {
          best = k;
        }
      }
      return best;
    }
  }

  /** Classifies n images stored row-major ({@code n·784}, on [−1, 1]), 500 per forward pass. */
  public Output apply(float[] images) {
    if (images.length % PIXELS != 0 || images.length == 0) {
      throw new IllegalArgumentException("the MNIST classifier takes n·784 pixel values (n >= 1), got " + images.length);
    }
    int n = images.length / PIXELS;
    double[] f = new double[n * MnistCnn.FEATURES];
    double[] p = new double[n * MnistCnn.CLASSES];
    for (int from = 0; from < n; from += 500) {
      int k = Math.min(500, n - from);
      try (NDManager m = manager.newSubManager(); InferenceMode off = InferenceMode.enter(m)) {
        float[] chunk = java.util.Arrays.copyOfRange(images, from * PIXELS, (from + k) * PIXELS);
        NDArray x = m.create(chunk, new Shape(k, 1, 28, 28));
        ParameterStore ps = new ParameterStore(m, false);
        NDArray feat = net.features(ps, x, false);
        NDArray prob = net.logits(ps, feat, false).softmax(1);
        System.arraycopy(feat.toType(DataType.FLOAT64, false).toDoubleArray(), 0, f, from * MnistCnn.FEATURES,
            k * MnistCnn.FEATURES);
        System.arraycopy(prob.toType(DataType.FLOAT64, false).toDoubleArray(), 0, p, from * MnistCnn.CLASSES,
            k * MnistCnn.CLASSES);
      }
    }
    return new Output(f, p);
  }

  /** Classifies doubles (converted to float). */
  public Output apply(double[] images) {
    float[] x = new float[images.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) images[i];
    }
    return apply(x);
  }

  /** Fraction of correctly classified images. */
  public double accuracy(float[] images, int[] labels) {
    Output o = apply(images);
    if (labels.length != images.length / PIXELS) {
      throw new IllegalArgumentException(labels.length + " labels for " + images.length / PIXELS + " images");
    }
    int ok = 0;
    for (int i = 0; i < labels.length; i++) {
      ok += o.label(i) == labels[i] ? 1 : 0;
    }
    return ok / (double) labels.length;
  }

  @Override
  public void close() {
    manager.close();
  }
}
