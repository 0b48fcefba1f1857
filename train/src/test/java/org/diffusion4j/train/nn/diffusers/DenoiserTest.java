package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The UNet as a denoiser: prediction types, timestep mappings, σ = 0 rows, clipping, every sampler. */
class DenoiserTest {
  private static DiffusersModel model;

  @BeforeAll
  static void load() throws IOException {
    model = DiffusersModel.load(Fixture.dir());
  }

  @AfterAll
  static void close() {
    if (model != null) { // null when the fixture is missing (load failed and reported it)
      model.close();
    }
  }

  @Test
  void predictionTypesBecomeX0ByTheirDefinitions() {
    DiscreteDdpm p = model.process();
    double[] sigma = {p.sigma(417), 0.3, 20};
    double[] x = Reference.randn(3 * 3 * 64, 4);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xh = m.create(x, new Shape(3, 3, 8, 8));
      // F(α x̂, t) directly.
      double[] in = new double[x.length];
      double[] t = new double[3];
      for (int i = 0; i < 3; i++) {
        t[i] = p.sigmaInv(sigma[i]);
        for (int j = 0; j < 192; j++) {
          in[i * 192 + j] = x[i * 192 + j] / Math.sqrt(1 + sigma[i] * sigma[i]);
        }
      }
      assertEquals(417, t[0], 1e-9);
      double[] f = Reference.values(model.unet().apply(new ParameterStore(m, false),
          Reference.array(m, in, 3, 3, 8, 8), t, null, false));
      for (SchedulerConfig.Prediction pred : SchedulerConfig.Prediction.values()) {
        DiffusersDenoiser d = new DiffusersDenoiser(model.unet(), p, pred, TimestepMapping.CONTINUOUS, Double.NaN);
        double[] got = Reference.values(d.denoise(xh, sigma, Conditioning.NONE));
        double[] want = new double[x.length];
        for (int i = 0; i < 3; i++) {
          double a = 1 / Math.sqrt(1 + sigma[i] * sigma[i]);
          for (int j = 0; j < 192; j++) {
            int k = i * 192 + j;
            want[k] = switch (pred) {
              case EPSILON -> x[k] - sigma[i] * f[k];                // (x_t − σ_t ε)/α_t
              case SAMPLE -> f[k];
              case V_PREDICTION -> a * (a * x[k]) - sigma[i] * a * f[k]; // α x_t − σ_t v
            };
          }
        }
        assertTrue(Fixture.relative(got, want) < 1e-6, pred.id());
      }
    }
  }

  @Test
  void zeroSigmaRowsReturnTheirStateAndClippingBoundsTheRest() {
    try (NDManager m = NDManager.newBaseManager()) {
      double[] x = Reference.randn(2 * 192, 5);
      for (int i = 0; i < x.length; i++) {
        x[i] *= 3;
      }
      NDArray xh = m.create(x, new Shape(2, 3, 8, 8));
      double[] sigma = {0, 1.5};
      double[] plain = Reference.values(model.denoiser().denoise(xh, sigma, Conditioning.NONE));
      double[] mixedRow0 = java.util.Arrays.copyOf(plain, 192);
      assertArrayEquals(java.util.Arrays.copyOf(x, 192), mixedRow0);
      double[] clipped = Reference.values(model.denoiser().withClip(1).denoise(xh, sigma, Conditioning.NONE));
      assertArrayEquals(java.util.Arrays.copyOf(x, 192), java.util.Arrays.copyOf(clipped, 192), "σ = 0 not clipped");
      for (int j = 192; j < 384; j++) {
        assertEquals(Math.max(-1, Math.min(1, plain[j])), clipped[j], 1e-6);
      }
      assertArrayEquals(x, Reference.values(model.denoiser().denoise(xh, new double[] {0, 0}, Conditioning.NONE)));
      assertThrows(IllegalArgumentException.class, () -> model.denoiser().withClip(0));
    }
  }

  @Test
  void timestepMappings() {
    DiscreteDdpm p = model.process();
    double[] table = p.sigmas();
    double s = 0.7 * table[417] + 0.3 * table[418]; // σ linearly interpolated at t = 417.3
    assertEquals(417.3, TimestepMapping.LINEAR.timestep(p, table, s), 1e-9);
    double c = TimestepMapping.CONTINUOUS.timestep(p, table, s);
    assertTrue(Math.abs(c - 417.3) > 1e-6 && Math.abs(c - 417.3) < 1e-2, "log- and linear interpolation differ: " + c);
    assertEquals(417, TimestepMapping.ROUNDED.timestep(p, table, s));
    for (TimestepMapping m : TimestepMapping.values()) {
      assertEquals(0, m.timestep(p, table, 1e-6), m.id());
      assertEquals(999, m.timestep(p, table, 1e6), m.id());
      assertEquals(600, m.timestep(p, table, table[600]), 1e-9, m.id());
    }
    assertThrows(IllegalArgumentException.class, () -> TimestepMapping.parse("nearest"));
  }

  @Test
  void everySamplerRunsOnTheModel() {
    DiscreteDdpm p = model.process();
    // Loose tolerances and few Langevin steps keep the adaptive and annealed samplers short on random weights.
    Map<String, Map<String, String>> params = Map.of("rk45", Map.of("rtol", "0.1", "atol", "0.1"),
        "dpm-solver-adaptive", Map.of("rtol", "0.5", "atol", "0.5"), "ald", Map.of("steps-per-level", "2"));
    for (SamplerInfo info : SamplerRegistry.all()) {
      long t0 = System.nanoTime();
      Sampling.Result r = Sampling.of(model.denoiser(), 3, 8, 8)
          .sampler(info.create(params.getOrDefault(info.id(), Map.of())))
          .grid(GridSpec.karras().build(p, 3)).seeds(0, 1).dtype(DataType.FLOAT32).run();
      System.out.printf("%s NFE %s %.2f s%n", info.id(), r.nfeText(), (System.nanoTime() - t0) / 1e9);
      for (double v : r.samples()) {
        assertTrue(Double.isFinite(v), info.id());
      }
      assertEquals(2 * 192, r.samples().length, info.id());
    }
  }
}
