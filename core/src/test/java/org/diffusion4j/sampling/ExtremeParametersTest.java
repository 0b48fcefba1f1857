package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/**
 * Every registered sampler, each numeric parameter at each end of its declared range (one at a time),
 * float32 and float64, 1–3 and many steps, every process, on an exact Gaussian mixture: the output is
 * finite, or the run stops with a clear error (an adaptive loop's cap, a step that the grid cannot
 * take) — never NaN/Inf, a hang or an unexplained exception. Values just outside each range are
 * refused when the parameters are parsed, with the range printed readably.
 */
class ExtremeParametersTest {
  private static final GaussianMixture GM = Oracle.mixture();
  private static final int N = 3;

  /** The parameter sets to try for one sampler: defaults, then each numeric parameter at each end. */
  static List<Map<String, String>> variants(SamplerInfo info) {
    List<Map<String, String>> out = new ArrayList<>();
    out.add(Map.of());
    for (ParamSpec p : info.params()) {
      ParamRange r = p.range();
      if (r == null) {
        continue;
      }
      double hi = r.highest() == Double.POSITIVE_INFINITY && r.hiOpen() ? Double.MAX_VALUE : r.highest();
      for (double v : new double[] {r.lowest(), hi}) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(p.name(), r.integer() ? Long.toString((long) v) : Double.toString(v));
        out.add(m);
      }
    }
    return out;
  }

  /**
   * Grids for one process: Karras at 1, 2, 3 steps (1, 3, 30 on edm, vp, ddpm), and a tiny σ_min
   * where the process allows; adaptive samplers run 1 and 3 steps, and a parameter set with
   * thousands of inner steps 1 step.
   */
  static List<Grid> grids(NoiseProcess p, boolean adaptive, boolean heavy) {
    List<Grid> out = new ArrayList<>();
    boolean many = List.of("edm", "vp", "ddpm").contains(p.id());
    int[] counts = heavy ? new int[] {1} : adaptive ? new int[] {1, 3} : many ? new int[] {1, 3, 30}
        : new int[] {1, 2, 3};
    for (int steps : counts) {
      out.add(new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(p, steps));
    }
    if (!heavy && (!adaptive || p.id().equals("edm"))) {
      try {
        out.add(new GridSpec.Karras(1e-6, Double.NaN, 7).build(p, 10));
      } catch (IllegalArgumentException refused) {
        // this process's σ range does not reach 1e-6
      }
    }
    return out;
  }

  @Test
  void everySamplerAtEveryParameterBoundIsFiniteOrRefusedClearly() {
    List<String> failures = new ArrayList<>();
    int runs = 0;
    for (SamplerInfo info : SamplerRegistry.all()) {
      // Adaptive solvers choose their own sub-steps: fewer processes and grids keep the test fast.
      boolean adaptive = info.id().equals("rk45") || info.id().equals("dpm-solver-adaptive");
      for (Map<String, String> params : variants(info)) {
        Sampler s = info.create(params); // in range: must be accepted
        boolean heavy = params.values().stream().anyMatch(v -> v.matches("\\d{4,}"));
        List<String> procs = heavy ? List.of("edm") : adaptive ? List.of("edm", "vp", "flow", "ddpm") : Processes.IDS;
        for (String proc : procs) {
          for (Grid grid : grids(Processes.byId(proc), adaptive, heavy)) {
            for (DataType dt : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
              String what = info.id() + " " + params + " on " + proc + " " + grid.steps() + " steps to "
                  + grid.sigma(grid.size() - 1) + " (min σ>0 " + minPositive(grid) + ") " + dt;
              runs++;
              try {
                double[] x = Oracle.run(s, GM.denoiser(), grid, Oracle.prior(grid, Oracle.normals(N, 2)), 2, dt,
                    new SeededNoise(1, 2, 3)).x();
                for (double v : x) {
                  if (!Double.isFinite(v)) {
                    failures.add(what + " gave " + v);
                    break;
                  }
                }
              } catch (IllegalStateException | IllegalArgumentException e) {
                // A clear stop must name what to change.
                String msg = String.valueOf(e.getMessage());
                if (!(msg.contains("loosen") || msg.contains("too large") || msg.contains("lower"))) {
                  failures.add(what + " threw " + e);
                }
              }
            }
          }
        }
      }
    }
    assertTrue(runs > 2500, "only " + runs + " runs");
    if (!failures.isEmpty()) {
      fail(failures.size() + " of " + runs + " runs failed:\n" + String.join("\n", failures.subList(0,
          Math.min(40, failures.size()))));
    }
  }

  /**
   * A denoiser whose output jitters (1e-3 random noise per call) can never meet rtol = atol = 1e-6:
   * every adaptive loop must stop soon, with an error naming what to loosen, instead of spinning.
   */
  private static void assertAdaptiveLoopsStop() {
    java.util.Random rng = new java.util.Random(1);
    org.diffusion4j.denoiser.Denoiser rough = org.diffusion4j.denoiser.Denoiser.shared((x, sigma) -> {
      ai.djl.ndarray.NDArray d = GM.denoiser().denoise(x, sigma);
      float[] jitter = new float[(int) d.size()];
      for (int i = 0; i < jitter.length; i++) {
        jitter[i] = (float) (1e-3 * rng.nextGaussian());
      }
      return d.add(d.getManager().create(jitter, d.getShape()).toType(d.getDataType(), false));
    });
    // (rk45 meets it with ever smaller steps; its caps are MAX_SUBSTEPS and a 10-ulp step floor.)
    for (String id : new String[] {"dpm-solver-adaptive"}) {
      Grid g = new GridSpec.Karras(0.002, 80, 7).build(Processes.byId("vp"), 18);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> Oracle.run(
          SamplerRegistry.create(id, Map.of("rtol", "1e-6", "atol", "1e-6")), rough, g,
          Oracle.prior(g, Oracle.normals(4, 2)), 2, DataType.FLOAT64, NoiseSource.NONE), id);
      assertTrue(e.getMessage().contains("loosen"), e.getMessage());
    }
  }

  private static double minPositive(Grid g) {
    double m = Double.POSITIVE_INFINITY;
    for (double v : g.sigmas()) {
      if (v > 0) {
        m = Math.min(m, v);
      }
    }
    return m;
  }

  @Test
  void valuesJustOutsideEachRangeAreRefusedAtParseTimeReadably() {
    int checked = 0;
    for (SamplerInfo info : SamplerRegistry.all()) {
      for (ParamSpec p : info.params()) {
        ParamRange r = p.range();
        if (r == null) {
          continue;
        }
        List<Double> outside = new ArrayList<>();
        outside.add(r.integer() ? r.lowest() - 1 : (r.loOpen() ? r.lo() : Math.nextDown(r.lo())));
        if (r.hi() != Double.POSITIVE_INFINITY) {
          outside.add(r.integer() ? r.highest() + 1 : (r.hiOpen() ? r.hi() : Math.nextUp(r.hi())));
        }
        if (!r.integer()) {
          outside.add(Double.NaN);
        }
        for (double v : outside) {
          String text = r.integer() ? Long.toString((long) v) : Double.toString(v);
          IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
              () -> info.create(Map.of(p.name(), text)), info.id() + " " + p.name() + "=" + text);
          assertTrue(e.getMessage().contains(p.name()), e.getMessage());
          assertTrue(!e.getMessage().contains("E308") && !e.getMessage().contains("4.9E-324"), e.getMessage());
          checked++;
        }
      }
    }
    assertTrue(checked >= 40, "checked " + checked);
  }

  @Test
  void rangesPrintReadably() {
    assertEquals("≥ 0", ParamRange.atLeast(0).toString().replace("finite and ", ""));
    assertEquals("finite and > 0", ParamRange.above(0).toString());
    assertEquals("in [1e-13, 1000]", ParamRange.closed(1e-13, 1e3).toString());
    assertEquals("in (0, 0.001]", ParamRange.leftOpen(0, 1e-3).toString());
    assertEquals("an integer in [1, 4]", ParamRange.ints(1, 4).toString());
    assertEquals("an integer ≥ 0", ParamRange.ints(0, Integer.MAX_VALUE).toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("ddim", Map.of("eta", "-1")));
    assertEquals("parameter eta of sampler 'ddim' must be in [0, 1], got -1", e.getMessage());
  }

  /** The three faults of the report, each at its exact command-line values. */
  @Test
  void reportedCases() {
    assertAdaptiveLoopsStop();
    for (String tol : new String[] {"1e-20", "1e-300"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> SamplerRegistry.create("dpm-solver-adaptive", Map.of("rtol", tol, "atol", tol)));
      assertTrue(e.getMessage().contains("in [1e-13, 1000]"), e.getMessage());
    }
    NoiseProcess edm = Processes.byId("edm");
    double[] x = Oracle.run(SamplerRegistry.create("dpmpp-sde", Map.of("r", "1")), GM.denoiser(),
        new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(edm, 5),
        Oracle.prior(new GridSpec.Karras(Double.NaN, Double.NaN, 7).build(edm, 5), Oracle.normals(64, 2)), 2,
        DataType.FLOAT64, new SeededNoise(new long[64])).x();
    for (double v : x) {
      assertTrue(Double.isFinite(v), "dpmpp-sde r=1 gave " + v);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpmpp-2s", Map.of("r", "1e-300")));
    assertTrue(e.getMessage().contains("in [0.001, 1]"), e.getMessage());
    Grid g = new GridSpec.Karras(1e-6, Double.NaN, 7).build(Processes.byId("vp"), 10);
    double[] y = Oracle.run(SamplerRegistry.create("pc", Map.of()), GM.denoiser(), g,
        Oracle.prior(g, Oracle.normals(64, 2)), 2, DataType.FLOAT32, new SeededNoise(new long[64])).x();
    for (double v : y) {
      assertTrue(Double.isFinite(v), "pc float32 sigma-min 1e-6 gave " + v);
    }
  }
}
