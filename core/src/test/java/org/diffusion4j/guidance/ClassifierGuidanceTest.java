package org.diffusion4j.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

class ClassifierGuidanceTest {
  private final LabelledMixture lm = Toys.fourTwo();

  private double[] eval(Denoiser d, double[] x, double[] sigma, Conditioning c) {
    try (NDManager m = NDManager.newBaseManager()) {
      return d.denoise(m.create(x, new Shape(x.length / 2, 2)), sigma, c).toDoubleArray();
    }
  }

  @Test
  void exactClassifierWithScaleOneIsTheExactConditionalDenoiser() {
    // D + σ²∇log p(y|x̂, σ) = E[x0 | x̂, y] (Tweedie for p(x̂|y) = p(x̂) p(y|x̂)/p(y)).
    double[] x = Toys.points(40, 5);
    double[] sigma = new double[40];
    long[] y = new long[40];
    for (int i = 0; i < 40; i++) {
      sigma[i] = 0.01 * Math.pow(1.25, i % 30);
      y[i] = i % 2;
    }
    Conditioning c = Conditioning.ofLabels(y);
    double[] guided = eval(new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), 1), x, sigma, c);
    double[] exact = eval(lm.denoiser(), x, sigma, c);
    for (int i = 0; i < exact.length; i++) {
      assertEquals(exact[i], guided[i], 1e-10 * Math.max(1, Math.abs(exact[i])), "value " + i);
    }
  }

  @Test
  void guidedSamplingWithScaleOneSamplesTheConditionalModel() {
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 16);
    Conditioning c = Conditioning.label(1, 8).withLabels(new long[] {0, 1, 0, 1, 1, 1, 0, 0});
    double[] a = Sampling.of(lm.denoiser(), 2).sampler(SamplerRegistry.create("heun", Map.of())).grid(grid).seeds(0, 7)
        .conditioning(c).run().samples();
    double[] b = Sampling.of(new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), 1), 2)
        .sampler(SamplerRegistry.create("heun", Map.of())).grid(grid).seeds(0, 7).conditioning(c).run().samples();
    for (int i = 0; i < a.length; i++) {
      assertEquals(a[i], b[i], 1e-8, "value " + i);
    }
  }

  @Test
  void exactClassifierGradientMatchesFiniteDifferences() {
    double[] x = Toys.points(10, 6);
    NoisyClassifier cl = lm.classifier();
    double h = 1e-6;
    try (NDManager m = NDManager.newBaseManager()) {
      for (double s : new double[] {0.1, 0.7, 3}) {
        double[] sigma = Denoiser.constant(10, s);
        long[] y = {0, 1, 1, 0, 1, 0, 0, 1, 1, 0};
        double[] g = cl.logProbGradient(m.create(x, new Shape(10, 2)), sigma, y).toDoubleArray();
        for (int j = 0; j < x.length; j++) {
          double[] p = x.clone();
          double[] q = x.clone();
          p[j] += h;
          q[j] -= h;
          double fp = cl.logProb(m.create(p, new Shape(10, 2)), sigma, y)[j / 2];
          double fq = cl.logProb(m.create(q, new Shape(10, 2)), sigma, y)[j / 2];
          assertEquals((fp - fq) / (2 * h), g[j], 1e-5 * Math.max(1, Math.abs(g[j])), "σ " + s + " value " + j);
        }
        // Probabilities of all classes sum to one.
        double[] p0 = cl.logProb(m.create(x, new Shape(10, 2)), sigma, new long[10]);
        double[] p1 = cl.logProb(m.create(x, new Shape(10, 2)), sigma, new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
        for (int i = 0; i < 10; i++) {
          assertEquals(1, Math.exp(p0[i]) + Math.exp(p1[i]), 1e-12);
        }
      }
    }
  }

  @Test
  void scaleAndNullLabel() {
    double[] x = Toys.points(3, 7);
    double[] sigma = {0.5, 1, 2};
    double[] d = eval(lm.mixture().denoiser(), x, sigma, Conditioning.NONE);
    double[] g1 = eval(new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), 1), x, sigma,
        Conditioning.ofLabels(1, Conditioning.NULL_LABEL, 0));
    double[] g3 = eval(new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), 3), x, sigma,
        Conditioning.ofLabels(1, Conditioning.NULL_LABEL, 0));
    // The null row is the plain model; the correction is linear in w.
    assertArrayEquals(new double[] {d[2], d[3]}, new double[] {g1[2], g1[3]}, 0);
    for (int i : new int[] {0, 1, 4, 5}) {
      assertEquals(3 * (g1[i] - d[i]), g3[i] - d[i], 1e-12);
    }
  }

  @Test
  void badLabelsGiveClearErrors() {
    double[] x = Toys.points(2, 8);
    ClassifierGuidance g = new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> eval(g, x, new double[] {1, 1}, Conditioning.ofLabels(0, 2)));
    assertTrue(e.getMessage().contains("class 2") && e.getMessage().contains("0..1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> eval(g, x, new double[] {1, 1}, Conditioning.NONE));
    assertTrue(e.getMessage().contains("needs class labels"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new ClassifierGuidance(lm.mixture().denoiser(), lm.classifier(), Double.POSITIVE_INFINITY));
    e = assertThrows(IllegalArgumentException.class, () -> LabelledMixture.fromJson(
        "{\"type\":\"gaussian-mixture\",\"weights\":[1,1],\"means\":[[0],[1]],\"stds\":[1,1],\"labels\":[0,2]}"));
    assertTrue(e.getMessage().contains("class 1 has no component"), e.getMessage());
    LabelledMixture back = LabelledMixture.fromJson(lm.toJson());
    assertArrayEquals(lm.labels(), back.labels());
  }
}
