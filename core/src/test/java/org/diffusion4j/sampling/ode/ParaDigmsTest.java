package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/**
 * ParaDiGMS against its sequential base sampler on the exact Gaussian mixture: window 1 is the base
 * sampler bit for bit, a converged run equals it to the tolerance, a window above 1 takes fewer batched
 * calls than there are steps, and bad windows and tolerances are refused.
 */
class ParaDigmsTest {
  private final GaussianMixture gm = Oracle.mixture();

  private static Sampler paradigms(int window, double tol, String base) {
    return new ParaDigms(window, tol, base);
  }

  private Oracle.Run run(Sampler s, Grid g, DataType dt) {
    return Oracle.run(s, gm.denoiser(), g, Oracle.prior(g, Oracle.normals(16, 2)), 2, dt, NoiseSource.NONE);
  }

  @Test
  void windowOneIsTheBaseSamplerBitForBitOnEveryProcess() {
    for (String id : Processes.IDS) {
      NoiseProcess p = Processes.byId(id);
      for (Grid g : List.of(GridSpec.karras().build(p, 12), Oracle.geometric(p, p.sigmaMax(), 0.05, 9))) {
        Oracle.Run a = run(paradigms(1, 0.1, "euler"), g, DataType.FLOAT64);
        Oracle.Run b = run(new Euler(), g, DataType.FLOAT64);
        assertEquals(0, Oracle.maxAbs(a.x(), b.x()), 0, "euler on " + g);
        assertEquals(b.nfe(), a.nfe());
        Oracle.Run c = run(paradigms(1, 0.1, "heun"), g, DataType.FLOAT32);
        Oracle.Run d = run(new Heun(), g, DataType.FLOAT32);
        assertEquals(0, Oracle.maxAbs(c.x(), d.x()), 0, "heun on " + g);
        assertEquals(d.nfe(), c.nfe());
      }
    }
  }

  @Test
  void convergedRunsEqualTheSequentialSolverToTheTolerance() {
    // The change test bounds each accepted point's last update by τ·sqrt(v_j); the deviation from the
    // sequential solution shrinks with τ (measured on σ 80 → 0, 50 steps, windows 4 and 50: max |Δ| from
    // 0.007τ to 0.1τ for τ = 0.1 … 1e-6, and 2–4e-12 at τ = 1e-10).
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 50);
    for (String base : new String[] {"euler", "heun"}) {
      double[] seq = run(base.equals("euler") ? new Euler() : new Heun(), g, DataType.FLOAT64).x();
      for (int window : new int[] {4, 50}) {
        double prev = Double.POSITIVE_INFINITY;
        for (double tol : new double[] {0.1, 1e-3, 1e-6}) {
          Oracle.Run r = run(paradigms(window, tol, base), g, DataType.FLOAT64);
          double dev = Oracle.maxAbs(r.x(), seq);
          String what = base + " window " + window + " τ " + tol + ": max deviation " + dev;
          assertTrue(dev <= 0.2 * tol, what);
          assertTrue(dev < prev || dev < 1e-12, what + " (previous τ " + prev + ")");
          prev = dev;
        }
        double dev = Oracle.maxAbs(run(paradigms(window, ParaDigms.MIN_TOLERANCE, base), g, DataType.FLOAT64).x(), seq);
        assertTrue(dev <= 0.2 * ParaDigms.MIN_TOLERANCE, base + " window " + window + " at the smallest τ: " + dev);
      }
    }
  }

  @Test
  void aWindowAboveOneTakesFewerBatchedCallsThanSteps() {
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 50);
    try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
      NDArray x = m.create(Oracle.prior(g, Oracle.normals(16, 2)), new ai.djl.ndarray.types.Shape(16, 2));
      var r = paradigms(8, 0.1, "euler").sample(gm.denoiser(), g, x, NoiseSource.NONE, null);
      assertTrue(r.depth() < 50 && r.depth() >= 50 / 8, "depth " + r.depth());
      assertTrue(r.nfe() >= 50 && r.nfe() <= 8 * r.depth(), "NFE " + r.nfe() + " depth " + r.depth());
      var h = paradigms(8, 0.1, "heun").sample(gm.denoiser(), g, x, NoiseSource.NONE, null);
      assertTrue(h.depth() < 99, "heun depth " + h.depth());
    }
    // The facade reports both: depth below the NFE.
    Sampling.Result s = Sampling.of(gm.denoiser(), 2).sampler(paradigms(8, 0.1, "euler")).grid(g).seeds(0, 9).run();
    assertTrue(s.parallelInTime() && s.depthMax() < 50 && s.nfeMin() > s.depthMax(), s.nfeText() + " / " + s.depthText());
    Sampling.Result e = Sampling.of(gm.denoiser(), 2).sampler(new Euler()).grid(g).seeds(0, 9).run();
    assertTrue(!e.parallelInTime() && e.depthMin() == 50, e.depthText());
  }

  @Test
  void theWindowCallCarriesEachSamplesConditioning() {
    // A class-conditional test model: D(x̂; σ, c) pulls every sample towards its own label's point. One
    // batched call stacks the window's points, so every row must see its sample's label.
    int[] widest = {0};
    Denoiser labelled = (x, sigma, c) -> {
      long rows = x.getShape().get(0);
      c.requireSize(rows);
      widest[0] = (int) Math.max(widest[0], rows);
      long[] labels = c.labels();
      double[] target = new double[(int) rows * 2];
      for (int i = 0; i < rows; i++) {
        target[2 * i] = labels[i];
        target[2 * i + 1] = -labels[i];
      }
      NDArray t = x.getManager().create(target, x.getShape()).toType(x.getDataType(), false);
      return x.mul(0.1).add(t.mul(0.9));
    };
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 20);
    Conditioning c = Conditioning.ofLabels(0, 1, 2, 3, 4);
    double[] seq = Sampling.of(labelled, 2).sampler(new Euler()).grid(g).seeds(0, 4).conditioning(c).run().samples();
    double[] par = Sampling.of(labelled, 2).sampler(paradigms(5, 1e-8, "euler")).grid(g).seeds(0, 4).conditioning(c)
        .run().samples();
    assertTrue(Oracle.maxAbs(seq, par) < 1e-9, "deviation " + Oracle.maxAbs(seq, par));
    assertEquals(25, widest[0], "5 points × 5 samples in one call");
    // A batch that is not whole blocks of the conditioning is still an error.
    var err = assertThrows(IllegalArgumentException.class,
        () -> labelled.conditioned(c).denoise(ai.djl.ndarray.NDManager.newBaseManager().zeros(
            new ai.djl.ndarray.types.Shape(7, 2), DataType.FLOAT64), 1.0));
    assertTrue(err.getMessage().contains("5 samples but the batch has 7"), err.getMessage());
  }

  @Test
  void badWindowsAndTolerancesAreRefusedClearly() {
    var e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("paradigms", Map.of("window", "0")));
    assertTrue(e.getMessage().contains("window") && e.getMessage().contains("[1, 1000]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("paradigms", Map.of("window", "2.5")));
    assertTrue(e.getMessage().contains("integer"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("paradigms", Map.of("tolerance", "1e-12")));
    assertTrue(e.getMessage().contains("tolerance") && e.getMessage().contains("1e-10"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ParaDigms(4, 1e-12, "euler"));
    assertTrue(e.getMessage().contains("double precision"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ParaDigms(4, Double.NaN, "euler"));
    assertTrue(e.getMessage().contains("tolerance"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SamplerRegistry.create("paradigms", Map.of("base", "rk4")));
    assertTrue(e.getMessage().contains("euler, heun"), e.getMessage());
    // A window wider than the grid is the whole grid.
    Grid g = GridSpec.karras().build(Edm.DEFAULT, 6);
    assertEquals(0, Oracle.maxAbs(run(paradigms(1000, 1e-10, "euler"), g, DataType.FLOAT64).x(),
        run(new Euler(), g, DataType.FLOAT64).x()), 1e-13);
  }
}
