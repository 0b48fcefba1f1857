package org.diffusion4j.train.align;

import java.util.Locale;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.analytic.GaussianMixture;

/**
 * A synthetic judge: a score per sample (higher is preferred), so preference methods can be measured
 * without human labels. Samples are n·d row-major on the host, in the model's (stored) data scale.
 */
@FunctionalInterface
public interface Scorer {

  /** The score of each of the n samples of d values. */
  double[] score(double[] x, int d);

  /** 2-D and up: prefer points near {@code center} (score = −distance). */
  static Scorer near(double... center) {
    double[] c = center.clone();
    return (x, d) -> {
      if (d != c.length) {
        throw new IllegalArgumentException("the scorer's point has " + c.length + " coordinates, the samples " + d);
      }
      double[] s = new double[x.length / d];
      for (int i = 0; i < s.length; i++) {
        double q = 0;
        for (int j = 0; j < d; j++) {
          q += (x[i * d + j] - c[j]) * (x[i * d + j] - c[j]);
        }
        s[i] = -Math.sqrt(q);
      }
      return s;
    };
  }

  /** Images scaled to [−1, 1]: prefer thicker strokes (the mean ink, i.e. the mean pixel value). */
  static Scorer ink() {
    return (x, d) -> {
      double[] s = new double[x.length / d];
      for (int i = 0; i < s.length; i++) {
        double m = 0;
        for (int j = 0; j < d; j++) {
          m += x[i * d + j];
        }
        s[i] = m / d;
      }
      return s;
    };
  }

  /**
   * MNIST images on [−1, 1]: the shipped MNIST classifier's probability of digit {@code k} ("looks like a
   * k"), {@link MnistClassifier#shipped()}.
   */
  static Scorer digit(int k) {
    if (k < 0 || k > 9) {
      throw new IllegalArgumentException("--synthetic digit:" + k + ": a digit is 0…9");
    }
    MnistClassifier clf = MnistClassifier.shipped();
    return (x, d) -> {
      if (d != 784) {
        throw new IllegalArgumentException("the digit scorer takes MNIST images of 784 values, got " + d);
      }
      double[] p = clf.apply(x).probabilities();
      double[] s = new double[x.length / d];
      for (int i = 0; i < s.length; i++) {
        s[i] = p[i * 10 + k];
      }
      return s;
    };
  }

  /** On an exact mixture: the posterior probability of component {@code k} at σ = 0 (the exact oracle). */
  static Scorer component(GaussianMixture gm, int k) {
    int m = gm.components();
    if (k < 0 || k >= m) {
      throw new IllegalArgumentException("component " + k + " outside 0…" + (m - 1));
    }
    double[] w = gm.weights();
    double[][] mu = gm.means();
    double[] sd = gm.stds();
    GaussianMixture[] parts = new GaussianMixture[m];
    for (int j = 0; j < m; j++) {
      parts[j] = GaussianMixture.gaussian(mu[j], sd[j]);
    }
    return (x, d) -> {
      double[][] logp = new double[m][];
      for (int j = 0; j < m; j++) {
        logp[j] = parts[j].logDensity(x, 1e-3);
      }
      double[] s = new double[x.length / d];
      for (int i = 0; i < s.length; i++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < m; j++) {
          max = Math.max(max, Math.log(w[j]) + logp[j][i]);
        }
        double sum = 0;
        for (int j = 0; j < m; j++) {
          sum += Math.exp(Math.log(w[j]) + logp[j][i] - max);
        }
        s[i] = Math.exp(Math.log(w[k]) + logp[k][i] - max) / sum;
      }
      return s;
    };
  }

  /** Parses {@code near:X,Y[,…]}, {@code ink} or {@code digit:K}. */
  static Scorer parse(String spec) {
    String s = spec.trim().toLowerCase(Locale.ROOT);
    if (s.equals("ink")) {
      return ink();
    }
    if (s.startsWith("digit:")) {
      try {
        return digit(Integer.parseInt(s.substring(6).trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--synthetic " + spec + ": digit: takes a digit 0…9, e.g. digit:7");
      }
    }
    if (s.startsWith("near:")) {
      String[] parts = s.substring(5).split(",");
      double[] c = new double[parts.length];
      try {
        for (int i = 0; i < c.length; i++) {
          c[i] = Double.parseDouble(parts[i].trim());
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--synthetic " + spec + ": near: takes numbers, e.g. near:1.5,0");
      }
      return near(c);
    }
    throw new IllegalArgumentException("unknown --synthetic scorer '" + spec + "'; accepted: near:X,Y[,…] (prefer "
        + "points near a point), ink (images: thicker strokes), digit:K (MNIST: the shipped classifier's p(K))");
  }
}
