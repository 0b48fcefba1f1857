package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NfeBudget;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class PndmTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  /** A grid uniform in σ (PNDM's constant-step weights are exact there) from 4 to 2. */
  private static Grid uniform(int steps) {
    double[] sg = new double[steps + 1];
    for (int i = 0; i <= steps; i++) {
      sg[i] = 4 - 2.0 * i / steps;
    }
    return Grid.ofSigmas(Edm.DEFAULT, sg);
  }

  @Test
  void rungeKuttaWarmUpIsFourthOrderAndHeunWarmUpAtLeastThird() {
    // PRK + PLMS: every step's local error is O(h⁵); the improved Euler start and the order-2 step have O(h³), so
    // the heun warm-up is third order asymptotically (measured 16 → 32 steps: prk 3.74, heun 3.60).
    double prk = Oracle.order(new Pndm(true), g, PndmTest::uniform, 16, 32);
    double heun = Oracle.order(new Pndm(false), g, PndmTest::uniform, 16, 32);
    System.out.printf("pndm order: prk %.2f, heun %.2f%n", prk, heun);
    assertEquals(4, prk, 0.35, "prk");
    assertTrue(heun > 2.8 && heun < 4.2, "heun " + heun);
    assertTrue(Oracle.error(new Pndm(true), g, uniform(32), 16) < Oracle.error(new Pndm(false), g, uniform(32), 16));
  }

  @Test
  void nfeIsTheWarmUpPlusOnePerStep() {
    for (int n : new int[] {1, 2, 3, 4, 10}) {
      Grid grid = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, n);
      int rk = Math.min(3, n - 1);
      assertEquals(4 * rk + n - rk, NfeBudget.nfe(new Pndm(true), grid), "prk " + n);
      assertEquals(n == 1 ? 1 : n + 1, NfeBudget.nfe(new Pndm(false), grid), "heun " + n);
    }
    assertEquals(new Pndm(false), SamplerRegistry.create("pndm", Map.of("warmup", "heun")));
    assertEquals(new Pndm(true), SamplerRegistry.create("pndm", Map.of()));
  }

  @Test
  void firstStepOfThePlmsStartIsDdim() {
    // One step: ε' = ε(x_0), the DDIM (= Euler in x̂ and σ) step.
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 1);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(Oracle.prior(grid, Oracle.normals(4, 2)), new Shape(4, 2));
      double[] a = new Pndm(false).run(g.denoiser(), grid, x, NoiseSource.NONE, StepListener.NONE).toDoubleArray();
      double[] b = new Ddim(0).run(g.denoiser(), grid, x, NoiseSource.NONE, StepListener.NONE).toDoubleArray();
      assertTrue(Oracle.maxAbs(a, b) < 1e-12, "pndm 1 step vs ddim: " + Oracle.maxAbs(a, b));
    }
  }

  @Test
  void liveArraysStayFlat() {
    for (boolean rk : new boolean[] {true, false}) {
      Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 40);
      try (NDManager m = NDManager.newBaseManager()) {
        NDArray x = m.create(Oracle.normals(3, 2), new Shape(3, 2)).mul(80);
        int before = ((BaseNDManager) m).getManagedArrays().size();
        int[] steps = {0};
        NDArray out = new Pndm(rk).run(g.denoiser(), grid, x, NoiseSource.NONE, info -> steps[0]++);
        int after = ((BaseNDManager) m).getManagedArrays().size();
        assertTrue(after - before <= 1, "pndm " + rk + ": " + before + " -> " + after + " live arrays");
        assertEquals(40, steps[0], "one listener call per grid step");
        out.close();
      }
    }
  }
}
