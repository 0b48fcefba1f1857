package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Edm;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

/** Batches spread over several workers give the single worker's output bit for bit. */
class WorkersTest {
  private static final GaussianMixture GM = GaussianMixture.demo2d();
  private static final Grid GRID = GridSpec.karras().build(Edm.DEFAULT, 6);

  private static Sampling run(Denoiser model, String sampler) {
    return Sampling.of(model, 2).sampler(SamplerRegistry.create(sampler, Map.of())).grid(GRID).seeds(10, 46).batch(5);
  }

  @Test
  void threeWorkersEqualOneBitForBitAndEveryWorkerRuns() {
    for (String sampler : List.of("dpmpp-2m", "euler-ancestral")) {
      Sampling.Result one = run(GM.denoiser(), sampler).run();
      Set<String> threads = Collections.synchronizedSet(new HashSet<>());
      Denoiser slow = (x, sigma, c) -> {
        threads.add(Thread.currentThread().getName());
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return GM.denoiser().denoise(x, sigma, c);
      };
      Sampling.Result three = run(slow, sampler).workers(3).run();
      assertArrayEquals(one.x(), three.x(), sampler);
      assertArrayEquals(one.samples(), three.samples(), sampler);
      assertEquals(one.nfeMax(), three.nfeMax());
      assertEquals(3, threads.size(), "8 batches over 3 workers: " + threads);
      // Explicit workers, each with its own model and device.
      Sampling.Result listed = run(GM.denoiser(), sampler)
          .workers(List.of(new Sampling.Worker(GM.denoiser(), Device.cpu()), new Sampling.Worker(slow, null))).run();
      assertArrayEquals(one.samples(), listed.samples(), sampler);
    }
  }

  @Test
  void conditioningRowsFollowTheirSeedsAcrossWorkers() {
    long[] labels = new long[37];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 4;
    }
    Denoiser echo = (x, sigma, c) -> {
      double[] v = new double[(int) x.size()];
      for (int i = 0; i < c.labels().length; i++) {
        v[2 * i] = c.labels()[i];
        v[2 * i + 1] = sigma[i];
      }
      return x.getManager().create(v, x.getShape()).toType(x.getDataType(), false);
    };
    Grid one = GridSpec.karras().build(Edm.DEFAULT, 1);
    Sampling.Result r = Sampling.of(echo, 2).sampler(SamplerRegistry.create("euler", Map.of())).grid(one).seeds(10, 46)
        .batch(3).conditioning(Conditioning.ofLabels(labels)).workers(4).run();
    for (int k = 0; k < 37; k++) {
      assertEquals(k % 4, r.samples()[2 * k], 1e-9, "sample " + k);
    }
  }

  @Test
  void aFailingWorkerStopsTheRunWithItsError() {
    Denoiser bad = (x, sigma, c) -> {
      if (sigma[0] < 1) {
        return x.mul(Double.NaN);
      }
      return GM.denoiser().denoise(x, sigma, c);
    };
    NonFiniteSampleException e = assertThrows(NonFiniteSampleException.class, () -> run(bad, "euler").workers(3).run());
    assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> run(bad, "euler").workers(0));
    assertThrows(IllegalArgumentException.class, () -> run(bad, "euler").workers(List.of()));
  }
}
