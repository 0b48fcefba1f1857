package org.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.process.VpLinear;
import org.junit.jupiter.api.Test;

class GridTest {
  @Test
  void karrasFollowsEdmEquation5() {
    Grid g = new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 18);
    assertEquals(19, g.size());
    assertEquals(80, g.sigma(0), 1e-12);
    assertEquals(0.002, g.sigma(17), 1e-15);
    assertEquals(0, g.sigma(18), 0);
    double a = Math.pow(80, 1 / 7.0);
    double b = Math.pow(0.002, 1 / 7.0);
    assertEquals(Math.pow(a + 5.0 / 17 * (b - a), 7), g.sigma(5), 1e-12);
  }

  @Test
  void exponentialIsGeometricAndPolyExponentialWithRhoOneEqualsIt() {
    Grid e = new GridSpec.Exponential(0.01, 10).build(Edm.DEFAULT, 6);
    for (int i = 1; i < 5; i++) {
      assertEquals(e.sigma(i) / e.sigma(i + 1), e.sigma(i - 1) / e.sigma(i), 1e-12);
    }
    Grid p = new GridSpec.PolyExponential(0.01, 10, 1).build(Edm.DEFAULT, 6);
    assertArrayEquals(e.sigmas(), p.sigmas(), 1e-15);
  }

  @Test
  void vpGridIsUniformInTime() {
    Grid g = new GridSpec.VpTime(0.1, 20, 1e-3).build(VpLinear.DEFAULT, 10);
    for (int i = 0; i < 10; i++) {
      assertEquals(1 + i / 9.0 * (1e-3 - 1), g.t(i), 1e-12);
    }
    assertEquals(0, g.sigma(10), 0);
  }

  @Test
  void uniformLambdaHasEqualLambdaStepsAndNoFinalZero() {
    Grid g = new GridSpec.UniformLambda(Double.NaN, Double.NaN).build(VpLinear.DEFAULT, 8);
    assertEquals(9, g.size());
    double h = g.lambda(1) - g.lambda(0);
    for (int i = 1; i < 8; i++) {
      assertEquals(h, g.lambda(i + 1) - g.lambda(i), 1e-12);
    }
    assertEquals(VpLinear.DEFAULT.tMin(), g.t(8), 1e-12);
    assertEquals(1, g.t(0), 1e-12);
  }

  @Test
  void timestepSpacingsMatchDiffusers() {
    // Table 2 of Lin et al. (2024), T = 1000, 10 steps, zero-based as in diffusers.
    assertArrayEquals(new long[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0},
        new GridSpec.Timesteps("leading", 0, false).timesteps(1000, 10));
    assertArrayEquals(new long[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1},
        new GridSpec.Timesteps("leading", 1, false).timesteps(1000, 10));
    assertArrayEquals(new long[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
        new GridSpec.Timesteps("trailing", 0, false).timesteps(1000, 10));
    assertArrayEquals(new long[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
        new GridSpec.Timesteps("linspace", 0, false).timesteps(1000, 10));
    // DPMSolverMultistep: linspace(0, 999, 11).round()[::-1][:-1] and leading with T // 11 = 90.
    assertArrayEquals(new long[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100},
        new GridSpec.Timesteps("linspace", 0, true).timesteps(1000, 10));
    assertArrayEquals(new long[] {900, 810, 720, 630, 540, 450, 360, 270, 180, 90},
        new GridSpec.Timesteps("leading", 0, true).timesteps(1000, 10));
    // numpy rounds half to even: linspace(0, 999, 3) = 0, 499.5, 999 → 0, 500, 999.
    assertArrayEquals(new long[] {999, 500, 0}, new GridSpec.Timesteps("linspace", 0, false).timesteps(1000, 3));
  }

  @Test
  void discreteGridUsesTheTableAndEndsAtMinusOne() {
    DiscreteDdpm d = DiscreteDdpm.DEFAULT;
    Grid g = new GridSpec.Timesteps("trailing", 0, false).build(d, 10);
    assertEquals(999, g.t(0), 0);
    assertEquals(Math.sqrt((1 - d.alphasCumprod()[999]) / d.alphasCumprod()[999]), g.sigma(0), 1e-12);
    assertEquals(-1, g.t(10), 0);
    assertEquals(0, g.sigma(10), 0);
    assertEquals(1, g.s(10), 0);
  }

  @Test
  void everyGridIsStrictlyDecreasingOnEveryProcess() {
    for (String pid : Processes.IDS) {
      NoiseProcess p = Processes.byId(pid);
      for (String gid : GridSpec.IDS) {
        if (!p.isDiscrete() && (gid.equals("leading") || gid.equals("trailing") || gid.equals("linspace"))) {
          continue;
        }
        for (int steps : new int[] {1, 2, 3, 10, 50}) {
          Grid g = GridOptions.of(gid).spec().build(p, steps);
          assertEquals(steps, g.steps(), pid + "/" + gid);
          for (int i = 0; i < g.size(); i++) {
            assertTrue(Double.isFinite(g.sigma(i)) && Double.isFinite(g.s(i)) && Double.isFinite(g.t(i)),
                pid + "/" + gid + " point " + i);
          }
        }
      }
    }
  }

  @Test
  void badGridInputNamesTheValue() {
    var e = assertThrows(IllegalArgumentException.class, () -> new GridSpec.Karras(0.002, 80, 0));
    assertTrue(e.getMessage().contains("rho") && e.getMessage().contains("0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new GridSpec.Karras(-0.1, 80, 7).build(Edm.DEFAULT, 10));
    assertTrue(e.getMessage().contains("-0.1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new GridSpec.Karras(0.002, 80, 7).build(Edm.DEFAULT, 0));
    assertTrue(e.getMessage().contains("steps"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new GridSpec.Timesteps("leading", 0, false).build(Edm.DEFAULT, 10));
    assertTrue(e.getMessage().contains("ddpm"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> GridOptions.of("karas").spec());
    assertTrue(e.getMessage().contains("karras"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Grid.ofSigmas(Edm.DEFAULT, 1, 2, 0));
    assertTrue(e.getMessage().contains("decrease"), e.getMessage());
  }
}
