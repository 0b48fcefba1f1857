package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;

/** Checks shared by the DPM-Solver++ and UniPC tests. */
final class SamplerChecks {
  private SamplerChecks() {}

  /** x̂ after the first step, as the listener reports it (FLOAT64 run). */
  static double[] afterFirstStep(Sampler s, Denoiser model, Grid grid, double[] x, int dim) {
    double[][] got = new double[1][];
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xa = m.create(x, new Shape(x.length / dim, dim));
      s.run(model, grid, xa, NoiseSource.NONE, info -> {
        if (info.step() == 0) {
          got[0] = info.xHat().toDoubleArray();
        }
      }).close();
    }
    return got[0];
  }

  /**
   * Grids of 1–3 steps ending at σ = 0 on every built-in process: Karras (the process's own range and
   * σ_min = 1e-5) and, on {@code ddpm}, diffusers' leading / trailing / linspace timesteps.
   */
  static List<Grid> shortGrids() {
    List<Grid> grids = new ArrayList<>();
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      for (int steps = 1; steps <= 3; steps++) {
        grids.add(new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(p, steps));
        if (id.equals("ddpm")) {
          grids.add(new GridSpec.Timesteps("leading", 1, false).build(p, steps));
          grids.add(new GridSpec.Timesteps("leading", 0, true).build(p, steps));
          grids.add(new GridSpec.Timesteps("trailing", 0, false).build(p, steps));
          grids.add(new GridSpec.Timesteps("linspace", 0, false).build(p, steps));
          grids.add(new GridSpec.Timesteps("linspace", 0, true).build(p, steps));
        } else {
          grids.add(new GridSpec.Karras(1e-5, Double.NaN, 7).build(p, steps));
        }
      }
    }
    return grids;
  }

  /** Every sampler gives finite FLOAT32 results on every {@link #shortGrids()} grid. */
  static void assertFiniteInFloat32(GaussianMixture g, Sampler... samplers) {
    double[] eps = Oracle.normals(5, g.dim());
    for (Grid grid : shortGrids()) {
      for (Sampler s : samplers) {
        double[] x = Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, eps), g.dim(), DataType.FLOAT32,
            NoiseSource.NONE).x();
        for (double v : x) {
          assertTrue(Double.isFinite(v), s + " on " + grid + " gave " + v);
        }
      }
    }
  }

  /** Arrays still alive in the caller's manager after a run of {@code steps} Karras steps (input and output expected). */
  static int liveArraysAfterRun(Sampler s, GaussianMixture g, int steps) {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(org.diffusion4j.process.VpLinear.DEFAULT, steps);
    double[] x = Oracle.prior(grid, Oracle.normals(3, g.dim()));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xa = m.create(x, new Shape(x.length / g.dim(), g.dim()));
      s.run(g.denoiser(), grid, xa, NoiseSource.NONE, info -> { });
      return m.getManagedArrays().size();
    }
  }

  /**
   * On the mixture, against {@link org.diffusion4j.analytic.ExactFlow}, on EDM's Karras grid (ending at
   * 0): the error shrinks more than 8x from 10 to 40 steps and is below 1e-2 at 40 (Heun's bounds).
   */
  static void assertMixtureErrorShrinks(Sampler... samplers) {
    GaussianMixture gm = Oracle.mixture();
    GridSpec karras = new GridSpec.Karras(0.002, 80, 7);
    for (Sampler s : samplers) {
      double e10 = Oracle.error(s, gm, karras.build(org.diffusion4j.process.Edm.DEFAULT, 10), 32);
      double e40 = Oracle.error(s, gm, karras.build(org.diffusion4j.process.Edm.DEFAULT, 40), 32);
      assertTrue(e40 < e10 / 8, s + " error should shrink from 10 to 40 steps: " + e10 + " -> " + e40);
      assertTrue(e40 < 1e-2, s + " 40 steps error " + e40);
    }
  }

  /** x̂ at the last point of a FLOAT64 run. */
  static double[] finalXHat(Sampler s, Denoiser model, Grid grid, double[] eps, int dim) {
    double[] x = Oracle.run(s, model, grid, Oracle.prior(grid, eps), dim, DataType.FLOAT64, NoiseSource.NONE).x();
    double sLast = grid.s(grid.size() - 1);
    for (int i = 0; i < x.length; i++) {
      x[i] /= sLast;
    }
    return x;
  }
}
