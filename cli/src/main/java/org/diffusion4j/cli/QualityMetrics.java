package org.diffusion4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.io.Npy;
import org.diffusion4j.train.eval.ClassBalance;
import org.diffusion4j.train.eval.EnergyDistance;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.Kid;
import org.diffusion4j.train.eval.KnnKl;
import org.diffusion4j.train.eval.Mmd;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.eval.Prdc;
import org.diffusion4j.train.eval.SlicedWasserstein;
import org.diffusion4j.train.nn.MnistCnn;

/**
 * The sample-quality metrics of {@code d4j eval} and {@code d4j lab} against one reference set: raw
 * coordinates for swd/mmd/energy/kl, features (the MNIST classifier's for images, raw otherwise) for
 * fd/kid/pr, class probabilities for classes.
 */
final class QualityMetrics {
  private final Set<String> chosen;
  private final int dim;
  private final int featureDim;
  private final GaussianMixture mixture;
  private final double[] ref;
  private final double[] refFeat;
  private final double[] bandwidths;
  private final int kidSubsets;
  private final int kidSize;
  private final int prN;

  QualityMetrics(Set<String> chosen, int dim, int featureDim, GaussianMixture mixture, double[] ref, double[] refFeat,
      int kidSubsets, int kidSize, int prN) {
    this.chosen = chosen;
    this.dim = dim;
    this.featureDim = featureDim;
    this.mixture = mixture;
    this.ref = ref;
    this.refFeat = refFeat;
    this.bandwidths = chosen.contains("mmd") ? Mmd.medianBandwidths(ref, ref, dim) : null;
    this.kidSubsets = kidSubsets;
    this.kidSize = kidSize;
    this.prN = prN;
  }

  /**
   * The chosen metrics of samples {@code x} (n·dim), their features {@code f} (n·featureDim; = x without a
   * feature network) and class probabilities (n·10, or null), in the order chosen.
   */
  Map<String, Object> of(double[] x, double[] f, double[] probs) {
    int n = x.length / dim;
    Map<String, Object> r = new LinkedHashMap<>();
    for (String k : chosen) {
      switch (k) {
        case "swd" -> r.put("swd", SlicedWasserstein.distance(x, ref, dim, 256, 0));
        case "w2" -> r.put("w2", org.diffusion4j.train.transport.Wasserstein.distance(
            new org.diffusion4j.train.transport.Points(x, n, dim),
            new org.diffusion4j.train.transport.Points(ref, ref.length / dim, dim)));
        case "mmd" -> r.put("mmd", Mmd.squared(x, ref, dim, bandwidths));
        case "energy" -> r.put("energy", EnergyDistance.of(x, ref, dim));
        case "kl" -> r.put("kl", KnnKl.divergence(x, mixture, 5));
        case "fd" -> r.put("fd", FrechetDistance.of(new FeatureStatistics(featureDim).add(f),
            new FeatureStatistics(featureDim).add(refFeat)));
        case "kid" -> r.put("kid", Kid.of(f, refFeat, featureDim, kidSubsets, kidSize, 0).mean() * 1e3);
        case "pr" -> {
          int p = Math.min(prN, n);
          Prdc q = Prdc.of(Arrays.copyOf(refFeat, p * featureDim), Arrays.copyOf(f, p * featureDim), featureDim, 5);
          r.put("precision", q.precision());
          r.put("recall", q.recall());
          r.put("density", q.density());
          r.put("coverage", q.coverage());
        }
        case "classes" -> {
          ClassBalance c = ClassBalance.of(probs, 10);
          r.put("confidence", c.confidence());
          r.put("class_balance", c.balance());
          r.put("class_histogram", c.histogram());
        }
        default -> throw new IllegalStateException(k);
      }
    }
    return r;
  }

  /**
   * Classifier features of reference images, cached under the hash of the images and of the classifier's
   * provenance in {@code cache} (default ~/.cache/diffusion4j).
   */
  static double[] referenceFeatures(MnistClassifier clf, float[] images, Path cache) {
    Path dir = cache != null ? cache : Path.of(System.getProperty("user.home"), ".cache", "diffusion4j");
    String key;
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      ByteBuffer bb = ByteBuffer.allocate(images.length * 4);
      bb.asFloatBuffer().put(images);
      md.update(bb.array());
      md.update(clf.metadata().toString().getBytes(StandardCharsets.UTF_8));
      key = HexFormat.of().formatHex(md.digest()).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path file = dir.resolve("mnist-features-" + key + ".npy");
    if (Files.isRegularFile(file)) {
      try {
        double[] f = Npy.read(file).data();
        if (f.length == images.length / 784 * MnistCnn.FEATURES) {
          return f;
        }
      } catch (IOException | RuntimeException e) {
        // An unreadable cache entry is recomputed.
      }
    }
    double[] f = clf.apply(images).features();
    try {
      Files.createDirectories(dir);
      Npy.write(file, f, new long[] {images.length / 784, MnistCnn.FEATURES}, false);
    } catch (IOException e) {
      // A cache that cannot be written only costs time.
    }
    return f;
  }
}
