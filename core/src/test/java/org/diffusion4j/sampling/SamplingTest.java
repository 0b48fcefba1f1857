package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Edm;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

/** The sampling facade: per-seed results whatever the batch, conditioning through every wrapper, streaming. */
class SamplingTest {
  private static final GaussianMixture GM = GaussianMixture.demo2d();
  private static final Grid GRID = GridSpec.karras().build(Edm.DEFAULT, 8);

  /**
   * A model that answers, for each row, 0.1·label + 0.01·σ: after a one-step Euler run from σ_0 to 0 the
   * sample is exactly D at σ_0, so the output shows which label and σ reached each row.
   */
  private static Denoiser labelEcho(List<long[]> seen) {
    return (x, sigma, c) -> {
      long[] labels = c.labels();
      if (labels == null) {
        throw new AssertionError("the conditioning did not reach the model");
      }
      assertEquals(x.getShape().get(0), labels.length, "labels sliced with the batch");
      seen.add(labels);
      double[] v = new double[(int) x.size()];
      int d = (int) (x.size() / labels.length);
      for (int i = 0; i < labels.length; i++) {
        for (int j = 0; j < d; j++) {
          v[i * d + j] = 0.1 * labels[i] + 0.01 * sigma[i];
        }
      }
      return x.getManager().create(v, x.getShape()).toType(x.getDataType(), false);
    };
  }

  @Test
  void labelsOfSampleKReachTheModelForSampleKAtAnyBatchSize() {
    long[] seeds = {5, 9, 1, 4, 7, 2, 8};
    long[] labels = {3, 0, 9, 1, Conditioning.NULL_LABEL, 6, 2};
    Grid one = GridSpec.karras().build(Edm.DEFAULT, 1);
    for (int batch : new int[] {1, 2, 3, 7}) {
      List<long[]> seen = new ArrayList<>();
      Sampling.Result r = Sampling.of(labelEcho(seen), 2).sampler(SamplerRegistry.create("euler", Map.of()))
          .grid(one).seeds(seeds).batch(batch).conditioning(Conditioning.ofLabels(labels)).run();
      assertEquals((7 + batch - 1) / batch, seen.size(), "one call per batch");
      for (int k = 0; k < seeds.length; k++) {
        double want = 0.1 * labels[k] + 0.01 * one.sigma(0);
        assertEquals(want, r.samples()[2 * k], 1e-12, "sample " + k + " at batch " + batch);
        assertEquals(want, r.samples()[2 * k + 1], 1e-12);
      }
      assertEquals(1, r.nfeMin());
    }
  }

  @Test
  void conditioningPassesThroughTheNfeCounterAndDecorators() {
    List<long[]> seen = new ArrayList<>();
    Denoiser echo = labelEcho(seen);
    // A decorator that shifts every label by one, as a guidance method would rewrite the conditioning.
    Denoiser shifted = (x, sigma, c) -> {
      long[] l = c.labels();
      for (int i = 0; i < l.length; i++) {
        l[i]++;
      }
      return echo.denoise(x, sigma, c.withLabels(l));
    };
    Sampling.Result r = Sampling.of(shifted, 2).sampler(SamplerRegistry.create("heun", Map.of()))
        .grid(GRID).seeds(0, 2).batch(2).conditioning(Conditioning.ofLabels(4, 5, 6)).run();
    assertTrue(seen.stream().allMatch(l -> l.length <= 2));
    assertEquals(5, seen.get(0)[0]);
    assertEquals(6, seen.get(0)[1]);
    assertEquals(7, seen.get(seen.size() - 1)[0]);
    assertEquals(2 * GRID.steps() - 1, r.nfeMax(), "heun's NFE counted through the wrappers");
  }

  @Test
  void resultsDependOnlyOnTheSeedNotTheBatch() {
    for (String id : new String[] {"dpmpp-2m", "euler-ancestral"}) {
      Sampler s = SamplerRegistry.create(id, Map.of());
      double[] whole = Sampling.of(GM.denoiser(), 2).sampler(s).grid(GRID).seeds(0, 9).run().samples();
      double[] batched = Sampling.of(GM.denoiser(), 2).sampler(s).grid(GRID).seeds(0, 9).batch(3).run().samples();
      assertArrayEquals(whole, batched, 0, id);
      double[] alone = Sampling.of(GM.denoiser(), 2).sampler(s).grid(GRID).seeds(7).run().samples();
      assertEquals(whole[14], alone[0], 0, id + ": seed 7 alone");
      assertEquals(whole[15], alone[1], 0);
    }
  }

  @Test
  void streamHandsOutEveryBatchInOrderAndRunGathersThem() {
    Sampler s = SamplerRegistry.create("heun", Map.of());
    Sampling run = Sampling.of(GM.denoiser(), 2).sampler(s).grid(GRID).seeds(0, 9).batch(4).trajectory(true);
    List<Sampling.Batch> got = new ArrayList<>();
    Sampling.Summary sum = run.stream(got::add);
    assertEquals(3, got.size());
    assertEquals(10, sum.samples());
    assertArrayEquals(new long[] {8, 9}, got.get(2).seeds());
    Sampling.Result all = run.run();
    assertEquals(all.samples()[16], got.get(2).samples()[0], 0);
    // The trajectory starts at the prior draw and ends at the samples.
    double[] prior = Sampling.prior(GRID, Sampling.seedRange(0, 9), 2);
    assertArrayEquals(prior, java.util.Arrays.copyOf(all.trajectory(), 20), 0);
    assertArrayEquals(all.x(), java.util.Arrays.copyOfRange(all.trajectory(), 20 * GRID.steps(), 20 * GRID.size()), 0);
  }

  @Test
  void perSampleSigmaEqualsTheScalarPath() {
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
      NDArray x = m.create(new double[] {0.3, -1.0, 2.0, 0.5, -0.7, 0.1}, new ai.djl.ndarray.types.Shape(3, 2));
      double[] sig = {0.05, 1.5, 20};
      double[] mixed = GM.denoiser().denoise(x, sig, Conditioning.NONE).toDoubleArray();
      for (int i = 0; i < 3; i++) {
        double[] one = GM.denoiser().denoise(x.get(i).expandDims(0), sig[i]).toDoubleArray();
        assertEquals(one[0], mixed[2 * i], 0);
        assertEquals(one[1], mixed[2 * i + 1], 0);
      }
      double[] scalar = GM.denoiser().denoise(x, 1.5).toDoubleArray();
      double[] equal = GM.denoiser().denoise(x, new double[] {1.5, 1.5, 1.5}, Conditioning.NONE).toDoubleArray();
      assertArrayEquals(scalar, equal, 0);
      double[] shared = Denoiser.shared(GM.denoiser()::denoise).denoise(x, sig, Conditioning.NONE).toDoubleArray();
      assertArrayEquals(mixed, shared, 0);
    }
  }

  @Test
  void nonFiniteStatesStopTheRunNamingStepAndSigma() {
    int[] calls = {0};
    Denoiser bad = (x, sigma, c) -> {
      calls[0]++;
      return calls[0] >= 3 ? x.mul(Double.NaN) : x.mul(0.5);
    };
    NonFiniteSampleException e = assertThrows(NonFiniteSampleException.class,
        () -> Sampling.of(bad, 2).sampler(SamplerRegistry.create("euler", Map.of())).grid(GRID).seeds(0, 3).run());
    assertEquals(2, e.step());
    assertTrue(e.getMessage().contains("step 3 of 8"), e.getMessage());
    assertTrue(e.getMessage().contains("seeds 0–3"), e.getMessage());
  }

  @Test
  void badInputIsRefusedWithTheValue() {
    Sampling s = Sampling.of(GM.denoiser(), 2).grid(GRID).seeds(0, 3);
    assertThrows(IllegalStateException.class, s::run);
    s.sampler(SamplerRegistry.create("euler", Map.of()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.conditioning(Conditioning.ofLabels(1, 2)).run());
    assertTrue(e.getMessage().contains("2 samples"), e.getMessage());
    s.conditioning(Conditioning.NONE);
    e = assertThrows(IllegalArgumentException.class, () -> s.initial(new double[5]).run());
    assertTrue(e.getMessage().contains("5 values"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.batch(0));
    assertThrows(IllegalArgumentException.class, () -> Sampling.of(GM.denoiser(), 0));
  }
}
