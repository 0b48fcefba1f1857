package org.diffusion4j.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ode.DpmSolverMultistep;
import org.junit.jupiter.api.Test;

/**
 * Parity with diffusers' own outputs: make_reference.py (next to index.json in the test resources) ran
 * diffusers v0.25.0's schedulers on the exact denoiser of the same Gaussian mixture from the same latents.
 * diffusers keeps float32 tables (β, ᾱ, σ), this project float64 ones: agreement is to that round-off.
 */
class DiffusersSchedulerParityTest {
  private static final Path DIR = Path.of("src/test/resources/diffusers-schedulers");
  /**
   * Relative tolerance (max-abs error over max-abs output) against diffusers' float32-table outputs: the
   * round-off of its float32 ᾱ/σ tables, amplified by third-order divided differences over 25 steps, reaches
   * 4e-5 (dpmpp-3m-25, deis-3-25); everything else agrees to 5e-6 or better.
   */
  static final double TOL = 5e-5;
  /** Against the same diffusers runs with float64 tables (output_f64_tables): the method alone. */
  static final double TOL_F64_TABLES = 1e-9;

  /**
   * Configs refused with an error: DDIM's linspace spacing at 12 steps (its previous timestep is not the
   * next one); PNDM's single step from timestep 0 to ᾱ_0 (the identity).
   */
  static final java.util.Set<String> REFUSED = java.util.Set.of("ddim-linspace-v-12", "pndm-plms-leading-1");

  record Case(String name, double error, double errorF64Tables) {}

  private static double relError(double[] got, double[] want) {
    double err = 0;
    double scale = 0;
    for (int i = 0; i < got.length; i++) {
      err = Math.max(err, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return err / scale;
  }

  static List<Case> errors() throws Exception {
    JsonObject index = JsonText.readObject(DIR.resolve("index.json"));
    GaussianMixture mix = GaussianMixture.fromJson(index.get("mixture").toString());
    NpyArray z = Npy.read(DIR.resolve(index.get("initial").getAsString()));
    List<Case> out = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      for (JsonElement e : index.getAsJsonArray("runs")) {
        JsonObject run = e.getAsJsonObject();
        String name = run.get("name").getAsString();
        DiffusersScheduler s;
        try {
          s = DiffusersScheduler.of(run.getAsJsonObject("config"), name, run.get("steps").getAsInt());
        } catch (IllegalArgumentException refused) {
          out.add(new Case(name, Double.NaN, Double.NaN));
          continue;
        }
        NpyArray want = Npy.read(DIR.resolve(run.get("output").getAsString()));
        NDArray x = m.create(z.data(), new Shape(z.shape())).toType(DataType.FLOAT64, false);
        NoiseSource noise = NoiseSource.NONE;
        if (run.has("noise")) {
          NpyArray draws = Npy.read(DIR.resolve(run.get("noise").getAsString()));
          int[] k = {0};
          int per = z.data().length;
          noise = (mm, shape, dtype) -> {
            double[] d = java.util.Arrays.copyOfRange(draws.data(), k[0] * per, (k[0] + 1) * per);
            k[0]++;
            return mm.create(d, shape).toType(dtype, false);
          };
        }
        double[] got = s.sample(mix.denoiser(), x, noise).toDoubleArray();
        double f64 = Double.NaN;
        if (run.has("output_f64_tables")) {
          f64 = relError(got, Npy.read(DIR.resolve(run.get("output_f64_tables").getAsString())).data());
        }
        out.add(new Case(name, relError(got, want.data()), f64));
        x.close();
      }
    }
    return out;
  }

  @Test
  void everyReferenceConfigMatchesDiffusersOutput() throws Exception {
    List<Case> cases = errors();
    StringBuilder bad = new StringBuilder();
    for (Case c : cases) {
      System.out.printf("%-28s %.3e %.3e%n", c.name(), c.error(), c.errorF64Tables());
      if (REFUSED.contains(c.name())) {
        assertTrue(Double.isNaN(c.error()), c.name() + " should be refused");
      } else if (!(c.error() <= TOL) || c.errorF64Tables() > TOL_F64_TABLES) {
        bad.append(c.name()).append(' ').append(c.error()).append(' ').append(c.errorF64Tables()).append('\n');
      }
    }
    assertTrue(bad.length() == 0, "configs off diffusers' output:\n" + bad);
  }

  private static String refusal(String json, int steps) {
    return assertThrows(IllegalArgumentException.class, () -> DiffusersScheduler.fromJson(json, "cfg.json", steps))
        .getMessage();
  }

  @Test
  void unsupportedOptionsAndClassesAreRefusedByName() {
    assertTrue(refusal("{\"_class_name\":\"EulerDiscreteScheduler\",\"foo_bar\":1}", 10).contains("foo_bar"));
    assertTrue(refusal("{\"_class_name\":\"LCMScheduler\"}", 10).contains("LCMScheduler"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\",\"solver_order\":2}", 10).contains("solver_order"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\",\"prediction_type\":\"sample\"}", 10)
        .contains("prediction_type"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\"}", 3).contains("at least 4 steps"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\",\"skip_prk_steps\":true}", 1).contains("unchanged"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\",\"steps_offset\":200}", 10).contains("steps_offset"));
    assertTrue(refusal("{\"_class_name\":\"PNDMScheduler\",\"skip_prk_steps\":\"yes\"}", 10)
        .contains("skip_prk_steps"));
    assertTrue(refusal("{\"_class_name\":\"DDIMScheduler\"}", 10).contains("clip_sample"));
    assertTrue(refusal("{\"_class_name\":\"DDIMScheduler\",\"clip_sample\":false,\"thresholding\":true}", 10)
        .contains("unthresholded"));
    assertTrue(refusal("{\"_class_name\":\"DDPMScheduler\",\"thresholding\":true,\"clip_sample\":false,"
        + "\"dynamic_thresholding_ratio\":1.5}", 10).contains("dynamic_thresholding_ratio"));
    assertTrue(refusal("{\"_class_name\":\"DDPMScheduler\",\"clip_sample_range\":0}", 10)
        .contains("clip_sample_range"));
    assertTrue(refusal("{\"_class_name\":\"DDIMScheduler\",\"clip_sample\":false,"
        + "\"rescale_betas_zero_snr\":true}", 10).contains("rescale_betas_zero_snr"));
    assertTrue(refusal("{\"_class_name\":\"DPMSolverMultistepScheduler\",\"algorithm_type\":\"sde-dpmsolver++\"}",
        10).contains("algorithm_type"));
    assertTrue(refusal("{\"_class_name\":\"UniPCMultistepScheduler\",\"use_karras_sigmas\":true}", 10)
        .contains("use_karras_sigmas"));
    assertTrue(refusal("{\"_class_name\":\"EulerDiscreteScheduler\",\"thresholding\":true}", 10)
        .contains("thresholding"));
    assertTrue(refusal("{\"_class_name\":\"EulerDiscreteScheduler\",\"timestep_spacing\":\"odd\"}", 10)
        .contains("timestep_spacing"));
    assertTrue(refusal("[1]", 10).contains("JSON object"));
    assertTrue(refusal("{\"_class_name\":\"DDPMScheduler\",\"clip_sample\":false,\"variance_type\":\"fixed_large\","
        + "\"timestep_spacing\":\"trailing\"}", 10).contains("fixed_large"));
    assertTrue(refusal("{\"_class_name\":\"DEISMultistepScheduler\",\"lower_order_final\":false}", 10)
        .contains("lower_order_final"));
    assertTrue(refusal("{\"_class_name\":\"UniPCMultistepScheduler\",\"final_sigmas_type\":\"zero\"}", 10)
        .contains("final_sigmas_type"));
    assertTrue(refusal("{\"_class_name\":\"DDIMScheduler\",\"clip_sample\":false,\"timestep_spacing\":"
        + "\"trailing\"}", 12).contains("previous timestep"));
  }

  @Test
  void finalSigmasZeroEndsAtDataWithAFirstOrderStep() {
    String base = "{\"_class_name\":\"DPMSolverMultistepScheduler\",\"solver_order\":2";
    DiffusersScheduler zero = DiffusersScheduler.fromJson(base + ",\"final_sigmas_type\":\"zero\"}", "c", 20);
    DiffusersScheduler min = DiffusersScheduler.fromJson(base + "}", "c", 20);
    assertEquals(0, zero.grid().sigma(20));
    assertEquals(min.process().sigmas()[0], min.grid().sigma(20), 0);
    DiffusersScheduler karras = DiffusersScheduler.fromJson(base + ",\"use_karras_sigmas\":true}", "c", 12);
    assertEquals(12, karras.grid().size(), "the zero-length final step is left out");
    DpmSolverMultistep s = new DpmSolverMultistep(3, true, false, true, false);
    assertArrayEquals(new int[] {1, 2, 3, 3, 3, 3, 3, 2, 1}, s.orders(9));
    assertArrayEquals(new int[] {1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, s.orders(15));
    assertArrayEquals(new int[] {1, 2, 2, 1}, new DpmSolverMultistep(2, true, false, false, true).orders(4));
  }

  @Test
  void gridAndTimestepsAreDiffusers() throws Exception {
    JsonObject index = JsonText.readObject(DIR.resolve("index.json"));
    for (JsonElement e : index.getAsJsonArray("runs")) {
      JsonObject run = e.getAsJsonObject();
      String name = run.get("name").getAsString();
      if (REFUSED.contains(name) || !name.startsWith("dpmpp-2m") && !name.startsWith("euler")) {
        continue;
      }
      DiffusersScheduler s = DiffusersScheduler.of(run.getAsJsonObject("config"), name, run.get("steps").getAsInt());
      com.google.gson.JsonArray ts = run.getAsJsonArray("timesteps");
      assertEquals(ts.size(), s.timesteps().length, name);
      for (int i = 0; i < ts.size(); i++) {
        // fractional (Karras) timesteps come from diffusers' float32 log σ table
        assertEquals(ts.get(i).getAsDouble(), s.timesteps()[i], 2e-2, name + " timestep " + i);
      }
      com.google.gson.JsonArray sg = run.getAsJsonArray("sigmas");
      for (int i = 0; i < s.grid().size(); i++) {
        double want = sg.get(i).getAsDouble();
        // float32 tables: 1 − ᾱ_0 ≈ 1e-4 keeps only ~3 digits of ᾱ_0 round-off, σ(t = 0) is off by 8e-5
        assertEquals(want, s.grid().sigma(i), 1e-4 * Math.max(want, 1e-3), name + " sigma " + i);
      }
    }
  }

  /**
   * PNDM: the model is called at exactly diffusers' timesteps (repeats and Runge–Kutta half steps included); where
   * diffusers' previous timestep is the next one, the registry's {@code pndm} on the scheduler's grid is the same
   * run (its half steps halve the process time, here the timestep) for ε-prediction; with 4 steps diffusers' last
   * step is a no-op, and {@code pndm} on the remaining 3 takes 2 Runge–Kutta steps, not 3.
   */
  @Test
  void pndmCallsTheModelAtDiffusersTimestepsAndItsRegistrySamplerAgrees() throws Exception {
    JsonObject index = JsonText.readObject(DIR.resolve("index.json"));
    GaussianMixture mix = GaussianMixture.fromJson(index.get("mixture").toString());
    NpyArray z = Npy.read(DIR.resolve(index.get("initial").getAsString()));
    int checked = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      for (JsonElement e : index.getAsJsonArray("runs")) {
        JsonObject run = e.getAsJsonObject();
        String name = run.get("name").getAsString();
        if (!name.startsWith("pndm") || REFUSED.contains(name)) {
          continue;
        }
        int steps = run.get("steps").getAsInt();
        DiffusersScheduler s = DiffusersScheduler.of(run.getAsJsonObject("config"), name, steps);
        com.google.gson.JsonArray ts = run.getAsJsonArray("timesteps");
        double[] want = new double[ts.size()];
        for (int i = 0; i < want.length; i++) {
          want[i] = ts.get(i).getAsDouble();
        }
        assertArrayEquals(want, s.modelTimesteps(), 0, name);
        int[] calls = {0};
        org.diffusion4j.denoiser.Denoiser counted = (x, sigma, c) -> {
          calls[0]++;
          return mix.denoiser().denoise(x, sigma, c);
        };
        NDArray x = m.create(z.data(), new Shape(z.shape())).toType(DataType.FLOAT64, false);
        double[] got = s.sample(counted, x, NoiseSource.NONE).toDoubleArray();
        boolean dropped = s.grid().steps() < steps; // the final no-op step from timestep 0 to ᾱ_0
        assertEquals(want.length - (dropped ? 1 : 0), calls[0], name + " NFE");
        if (name.matches("pndm-(plms|prk)-leading-(10|50)|pndm-plms-(sd-50|leading-2)")) {
          boolean prk = !run.getAsJsonObject("config").has("skip_prk_steps");
          org.diffusion4j.sampling.Sampler registry = org.diffusion4j.sampling.SamplerRegistry.create("pndm",
              java.util.Map.of("warmup", prk ? "prk" : "heun"));
          double[] generic = registry.run(mix.denoiser(), s.grid(), x, NoiseSource.NONE,
              org.diffusion4j.sampling.StepListener.NONE).toDoubleArray();
          assertTrue(relError(generic, got) < 1e-12, name + ": registry pndm off by " + relError(generic, got));
          checked++;
        }
        x.close();
      }
    }
    assertEquals(5, checked);
  }
}
