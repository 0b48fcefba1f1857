package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.SampleResult;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

/**
 * Parity with LuChengTHU's DPM-Solver ({@code dpm_solver_pytorch.py}, its {@code DPM_Solver.sample}) on its
 * own outputs: make_reference.py (next to index.json in the test resources) ran every algorithm_type × method
 * × order × skip_type (and both solver types) on the exact noise prediction of a 2-D Gaussian mixture on the
 * continuous linear VP schedule, float64, from t = 1 to t_end = 1e-3 without denoise_to_zero. Each run maps
 * to one of this project's samplers and grids, spelled as on the command line.
 */
class DpmSolverReferenceParityTest {
  private static final Path DIR = Path.of("src/test/resources/dpm-solver");
  /** Max-abs error over max-abs output; both sides compute in float64. */
  static final double TOL = 1e-9;

  /** How a reference run is spelled here: sampler id, its parameters, grid id and grid steps. */
  record Spelling(String sampler, Map<String, String> params, String grid, int steps) {}

  static Spelling spell(JsonObject r) {
    String alg = r.get("algorithm").getAsString();
    String method = r.get("method").getAsString();
    int order = r.get("order").getAsInt();
    String skip = r.get("skip").getAsString();
    int steps = r.get("steps").getAsInt();
    String variant = r.get("solver_type").getAsString().equals("taylor") ? "taylor" : "midpoint";
    String grid = switch (skip) {
      case "time_uniform" -> "vp-uniform";
      case "time_quadratic" -> "vp-quadratic";
      default -> "lambda";
    };
    Map<String, String> p = new java.util.LinkedHashMap<>();
    p.put("algorithm", alg);
    p.put("variant", variant);
    p.put("order", Integer.toString(order));
    switch (method) {
      case "multistep":
        p.put("method", "multistep");
        return new Spelling("dpm-solver", p, grid, steps);
      case "singlestep":
        // DPM-Solver-fast: NFE = steps; logSNR places uniform-λ outer steps.
        if (grid.equals("lambda")) {
          p.put("inner", "lambda");
        }
        return new Spelling("dpm-solver-fast", p, grid, steps);
      case "singlestep_fixed": {
        p.put("method", "singlestep");
        int k = steps / order;
        if (grid.equals("lambda")) {
          return new Spelling("dpm-solver", p, grid, k);
        }
        p.put("inner", "grid");
        return new Spelling("dpm-solver", p, grid, k * order);
      }
      default:
        p.put("rtol", r.get("rtol").getAsString());
        p.put("atol", r.get("atol").getAsString());
        return new Spelling("dpm-solver-adaptive", p, "vp-uniform", 1);
    }
  }

  record Case(String name, Spelling spelling, double error, int nfe, int referenceNfe) {}

  static double relError(double[] got, double[] want) {
    double err = 0;
    double scale = 0;
    for (int i = 0; i < got.length; i++) {
      err = Math.max(err, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return err / scale;
  }

  static List<Case> cases() throws Exception {
    JsonObject index = JsonText.readObject(DIR.resolve("index.json"));
    GaussianMixture mix = GaussianMixture.fromJson(index.get("mixture").toString());
    NpyArray z = Npy.read(DIR.resolve(index.get("initial").getAsString()));
    NpyArray outputs = Npy.read(DIR.resolve(index.get("outputs").getAsString()));
    int per = z.data().length;
    VpLinear vp = new VpLinear(0.1, 20, 1e-3);
    List<Case> out = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      int k = 0;
      for (JsonElement e : index.getAsJsonArray("runs")) {
        JsonObject r = e.getAsJsonObject();
        Spelling sp = spell(r);
        Sampler s = SamplerRegistry.create(sp.sampler(), sp.params());
        Grid grid = org.diffusion4j.schedule.GridOptions.of(sp.grid()).spec().build(vp, sp.steps());
        NDArray x = m.create(z.data(), new Shape(z.shape())).toType(DataType.FLOAT64, false);
        SampleResult res = s.sample(mix.denoiser(), grid, x, NoiseSource.NONE, StepListener.NONE);
        double[] want = Arrays.copyOfRange(outputs.data(), k * per, (k + 1) * per);
        out.add(new Case(r.get("name").getAsString(), sp, relError(res.x().toDoubleArray(), want), res.nfe(),
            r.get("nfe").getAsInt()));
        res.x().close();
        x.close();
        k++;
      }
    }
    return out;
  }

  @Test
  void everyReferenceRunMatchesLuChengThuOutput() throws Exception {
    List<Case> cases = cases();
    assertEquals(136, cases.size());
    StringBuilder bad = new StringBuilder();
    double worst = 0;
    for (Case c : cases) {
      System.out.printf("%-60s %.3e nfe %d/%d%n", c.name(), c.error(), c.nfe(), c.referenceNfe());
      worst = Math.max(worst, c.error());
      boolean adaptive = c.spelling().sampler().equals("dpm-solver-adaptive");
      // The adaptive solver reuses ε after a rejected trial: fewer NFE, same numbers.
      boolean nfeOk = adaptive ? c.nfe() <= c.referenceNfe() : c.nfe() == c.referenceNfe();
      if (!(c.error() <= TOL) || !nfeOk) {
        bad.append(c.name()).append(' ').append(c.error()).append(" nfe ").append(c.nfe()).append('/')
            .append(c.referenceNfe()).append('\n');
      }
    }
    System.out.printf("worst %.3e over %d runs%n", worst, cases.size());
    assertTrue(bad.length() == 0, "runs off the reference's output:\n" + bad);
  }

  @Test
  void timeGridsAreTheReferencesSkipTypes() {
    VpLinear vp = new VpLinear(0.1, 20, 1e-3);
    Grid u = new GridSpec.TimePower(1).build(vp, 4);
    Grid q = new GridSpec.TimePower(2).build(vp, 4);
    double[] tu = {1, 0.75025, 0.5005, 0.25075, 1e-3};
    for (int i = 0; i <= 4; i++) {
      assertEquals(tu[i], u.t(i), 1e-15);
      double r = Math.sqrt(1) + i / 4.0 * (Math.sqrt(1e-3) - 1);
      assertEquals(r * r, q.t(i), 1e-15);
    }
    assertTrue(!u.endsAtZero() && !q.endsAtZero());
    assertEquals(vp.sigma(1e-3), q.sigma(4), 1e-15);
    Grid d = new GridSpec.TimePower(1).build(org.diffusion4j.process.DiscreteDdpm.DEFAULT, 3);
    assertEquals(999, d.t(0), 0);
    assertEquals(333, d.t(2), 1e-12);
    assertEquals(0, d.t(3), 0);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new GridSpec.TimePower(0.5)).getMessage()
        .contains("0.5"));
  }

  @Test
  void innerGridNeedsAMultipleOfTheOrder() {
    Grid g = new GridSpec.TimePower(1).build(VpLinear.DEFAULT, 7);
    Sampler s = SamplerRegistry.create("dpm-solver", Map.of("method", "singlestep", "order", "3", "inner", "grid"));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.zeros(new Shape(2, 2), DataType.FLOAT64);
      String msg = assertThrows(IllegalArgumentException.class,
          () -> s.sample(GaussianMixture.fromJson("{\"type\":\"gaussian-mixture\",\"weights\":[1],\"means\":[[0,0]],"
              + "\"stds\":[1]}").denoiser(), g, x, NoiseSource.NONE, StepListener.NONE)).getMessage();
      assertTrue(msg.contains("7") && msg.contains("order 3"), msg);
    }
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> SamplerRegistry.create("dpm-solver", Map.of("inner", "grid"))).getMessage().contains("singlestep"));
  }
}
