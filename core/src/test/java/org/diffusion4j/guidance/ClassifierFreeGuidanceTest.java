package org.diffusion4j.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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

class ClassifierFreeGuidanceTest {
  private final LabelledMixture lm = Toys.fourTwo();
  private final long[] labels = {0, 1, 0, 1, 1, 0};

  private double[] eval(Denoiser d, double[] x, double[] sigma, Conditioning c) {
    try (NDManager m = NDManager.newBaseManager()) {
      return d.denoise(m.create(x, new Shape(x.length / 2, 2)), sigma, c).toDoubleArray();
    }
  }

  @Test
  void guidedDenoiserIsTheFormulaOnTheExactMixture() {
    double[] x = Toys.points(6, 1);
    double[] sigma = {0.05, 0.3, 1, 2.5, 10, 0.7};
    Conditioning c = Conditioning.ofLabels(labels);
    double[] dc = eval(lm.denoiser(), x, sigma, c);
    double[] du = eval(lm.mixture().denoiser(), x, sigma, Conditioning.NONE);
    for (double w : new double[] {-0.5, 0.5, 2, 7.5}) {
      double[] g = eval(new ClassifierFreeGuidance(lm.denoiser(), w), x, sigma, c);
      for (int i = 0; i < g.length; i++) {
        assertEquals(du[i] + w * (dc[i] - du[i]), g[i], 1e-12, "w " + w + " value " + i);
      }
      // The extrapolation convention (1 + ω) D_c − ω D_∅ with ω = w − 1.
      double omega = w - 1;
      double[] e = eval(new ClassifierFreeGuidance(lm.denoiser(), ClassifierFreeGuidance.fromExtrapolation(omega)), x,
          sigma, c);
      for (int i = 0; i < e.length; i++) {
        assertEquals((1 + omega) * dc[i] - omega * du[i], e[i], 1e-12);
      }
    }
    // w = 1 is the conditional model and w = 0 the unconditional one, exactly.
    assertArrayEquals(dc, eval(new ClassifierFreeGuidance(lm.denoiser(), 1), x, sigma, c), 0);
    assertArrayEquals(du, eval(new ClassifierFreeGuidance(lm.denoiser(), 0), x, sigma, c), 0);
    // The conditional model of class y is the mixture of y's components.
    double[] x0 = Arrays.copyOfRange(x, 0, 2);
    assertArrayEquals(lm.ofClass(0).denoise(x0, 0.05), Arrays.copyOfRange(dc, 0, 2), 1e-15);
  }

  /** A denoiser that records every call's batch size and labels. */
  private static final class Counting implements Denoiser {
    final Denoiser inner;
    final List<long[]> calls = new ArrayList<>();

    Counting(Denoiser inner) {
      this.inner = inner;
    }

    @Override
    public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
      calls.add(c.labels());
      assertEquals(x.getShape().get(0), sigma.length);
      return inner.denoise(x, sigma, c);
    }
  }

  @Test
  void bothHalvesRunInOneBatchedForward() {
    Counting counting = new Counting(lm.denoiser());
    double[] x = Toys.points(6, 2);
    double[] sigma = {1, 1, 2, 2, 3, 3};
    eval(new ClassifierFreeGuidance(counting, 3), x, sigma, Conditioning.ofLabels(labels));
    assertEquals(1, counting.calls.size());
    long[] seen = counting.calls.get(0);
    assertEquals(12, seen.length);
    assertArrayEquals(labels, Arrays.copyOfRange(seen, 0, 6));
    assertTrue(Arrays.stream(seen, 6, 12).allMatch(l -> l == Conditioning.NULL_LABEL));
    // w = 1 and w = 0 need one forward of n.
    for (double w : new double[] {0, 1}) {
      counting.calls.clear();
      eval(new ClassifierFreeGuidance(counting, w), x, sigma, Conditioning.ofLabels(labels));
      assertEquals(1, counting.calls.size());
      assertEquals(6, counting.calls.get(0).length);
    }
    // A whole sampling run: one forward per NFE.
    counting.calls.clear();
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 8);
    Sampling.Result r = Sampling.of(new ClassifierFreeGuidance(counting, 4), 2).sampler(SamplerRegistry.create("heun",
        Map.of())).grid(grid).seeds(0, 5).conditioning(Conditioning.ofLabels(labels)).run();
    assertEquals(r.nfeMax(), counting.calls.size());
  }

  @Test
  void everySamplerRunsItAndWOneSamplesTheConditionalModel() {
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 12);
    Conditioning c = Conditioning.ofLabels(labels);
    for (String sampler : new String[] {"heun", "dpmpp-2m", "euler-ancestral"}) {
      double[] plain = Sampling.of(lm.denoiser(), 2).sampler(SamplerRegistry.create(sampler, Map.of())).grid(grid)
          .seeds(0, 5).conditioning(c).run().samples();
      double[] guided = Sampling.of(new ClassifierFreeGuidance(lm.denoiser(), 1), 2)
          .sampler(SamplerRegistry.create(sampler, Map.of())).grid(grid).seeds(0, 5).conditioning(c).run().samples();
      assertArrayEquals(plain, guided, 0, sampler);
    }
  }

  @Test
  void strongerGuidanceConcentratesSamplesOnTheirClass() {
    // w > 1 sharpens p(x) p(y|x)^w: class-1 samples move away from class 0's components.
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 24);
    int n = 200;
    Conditioning c = Conditioning.label(1, n);
    double[] meanX = new double[3];
    double[] ws = {0, 1, 4};
    for (int k = 0; k < ws.length; k++) {
      double[] s = Sampling.of(new ClassifierFreeGuidance(lm.denoiser(), ws[k]), 2)
          .sampler(SamplerRegistry.create("heun", Map.of())).grid(grid).seeds(0, n - 1).conditioning(c).run().samples();
      for (int i = 0; i < n; i++) {
        meanX[k] += s[2 * i] / n;
      }
    }
    // Class 1 sits at x > 0, the mixture's mean near x = −0.5; guidance pushes further right.
    assertTrue(meanX[0] < 0 && meanX[1] > 1 && meanX[2] > meanX[1], Arrays.toString(meanX));
  }

  @Test
  void intervalAndRescale() {
    double[] x = Toys.points(6, 3);
    double[] sigma = {0.1, 0.5, 1, 2, 5, 20};
    Conditioning c = Conditioning.ofLabels(labels);
    double[] dc = eval(lm.denoiser(), x, sigma, c);
    double[] g = eval(new ClassifierFreeGuidance(lm.denoiser(), 3), x, sigma, c);
    double[] limited = eval(new ClassifierFreeGuidance(lm.denoiser(), 3, 0.4, 3, 0), x, sigma, c);
    for (int i = 0; i < 6; i++) {
      boolean inside = sigma[i] >= 0.4 && sigma[i] <= 3;
      for (int j = 0; j < 2; j++) {
        assertEquals(inside ? g[2 * i + j] : dc[2 * i + j], limited[2 * i + j], 1e-12, "row " + i);
      }
    }
    // φ = 1: every row has the conditional prediction's std (over its values).
    double[] r = eval(new ClassifierFreeGuidance(lm.denoiser(), 3, 0, Double.POSITIVE_INFINITY, 1), x, sigma, c);
    for (int i = 0; i < 6; i++) {
      assertEquals(Math.abs(dc[2 * i] - dc[2 * i + 1]), Math.abs(r[2 * i] - r[2 * i + 1]), 1e-9, "row " + i);
    }
  }

  @Test
  void badInputsGiveClearErrors() {
    double[] x = Toys.points(2, 4);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> eval(new ClassifierFreeGuidance(lm.denoiser(), 2), x, new double[] {1, 1}, Conditioning.NONE));
    assertTrue(e.getMessage().contains("needs class labels"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> eval(new ClassifierFreeGuidance(lm.denoiser(), 2), x, new double[] {1, 1}, Conditioning.ofLabels(0, 5)));
    assertTrue(e.getMessage().contains("class 5") && e.getMessage().contains("0..1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(lm.denoiser(), Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(lm.denoiser(), 2, 3, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new ClassifierFreeGuidance(lm.denoiser(), 2, 0, 1, 1.5));
  }
}
