package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --scheduler-config} on d4j sample and d4j grid, against diffusers' stored outputs. */
class SchedulerConfigCliTest {
  private static final Path REF = Path.of("../core/src/test/resources/diffusers-schedulers");

  private static JsonObject run(String name) throws Exception {
    for (var e : JsonText.readObject(REF.resolve("index.json")).getAsJsonArray("runs")) {
      if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
        return e.getAsJsonObject();
      }
    }
    throw new AssertionError(name);
  }

  @Test
  void sampleReproducesDiffusersAndGridPrintsItsTimesteps(@TempDir Path dir) throws Exception {
    JsonObject index = JsonText.readObject(REF.resolve("index.json"));
    Path mix = Files.writeString(dir.resolve("mix.json"), index.get("mixture").toString());
    JsonObject r = run("dpmpp-3m-10");
    Path cfg = Files.writeString(dir.resolve("scheduler_config.json"), r.getAsJsonObject("config").toString());
    Path out = dir.resolve("x.npy");
    Cli.Run s = Cli.run("sample", "--model", mix.toString(), "--scheduler-config", cfg.toString(), "--steps", "10",
        "--noise", REF.resolve("initial.npy").toString(), "--out", out.toString(), "--no-check");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("dpm-multistep"), s.out());
    // --out holds x̂ = x/s at the last grid point; diffusers returns x, here at σ(t = 0) (s = 1/sqrt(1 + σ²))
    JsonArray sigmas = r.getAsJsonArray("sigmas");
    double last = sigmas.get(sigmas.size() - 1).getAsDouble();
    double sLast = 1 / Math.sqrt(1 + last * last);
    double[] got = Npy.read(out).data();
    double[] want = Npy.read(REF.resolve("dpmpp-3m-10.npy")).data();
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i] * sLast, 1e-5, "element " + i);
    }
    Cli.Run g = Cli.run("grid", "--scheduler-config", cfg.toString(), "--steps", "10", "--json");
    assertEquals(0, g.code(), g.err());
    JsonObject grid = JsonText.parse(g.out(), "out").getAsJsonObject();
    JsonArray ts = r.getAsJsonArray("timesteps");
    JsonArray sg = r.getAsJsonArray("sigmas");
    for (int i = 0; i < ts.size(); i++) {
      assertEquals(ts.get(i).getAsDouble(), grid.getAsJsonArray("timesteps").get(i).getAsDouble(), 0, "t " + i);
      double w = sg.get(i).getAsDouble();
      assertEquals(w, grid.getAsJsonArray("sigmas").get(i).getAsDouble(), 1e-4 * w, "sigma " + i);
    }
  }

  @Test
  void pndmSamplesAsDiffusersAndGridPrintsTheTimestepsOfItsModelCalls(@TempDir Path dir) throws Exception {
    JsonObject index = JsonText.readObject(REF.resolve("index.json"));
    Path mix = Files.writeString(dir.resolve("mix.json"), index.get("mixture").toString());
    JsonObject r = run("pndm-prk-leading-10");
    Path cfg = Files.writeString(dir.resolve("scheduler_config.json"), r.getAsJsonObject("config").toString());
    Path out = dir.resolve("x.npy");
    Cli.Run s = Cli.run("sample", "--model", mix.toString(), "--scheduler-config", cfg.toString(), "--steps", "10",
        "--noise", REF.resolve("initial.npy").toString(), "--out", out.toString(), "--no-check");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("pndm"), s.out());
    Cli.Run g = Cli.run("grid", "--scheduler-config", cfg.toString(), "--steps", "10", "--json");
    assertEquals(0, g.code(), g.err());
    JsonObject grid = JsonText.parse(g.out(), "out").getAsJsonObject();
    JsonArray calls = grid.getAsJsonArray("model_timesteps");
    JsonArray ts = r.getAsJsonArray("timesteps");
    assertEquals(ts.size(), calls.size(), g.out());
    for (int i = 0; i < ts.size(); i++) {
      assertEquals(ts.get(i).getAsDouble(), calls.get(i).getAsDouble(), 0, "call " + i);
    }
    // the final no-op call (timestep 0 to ᾱ_0) is left out: the grid ends at σ(t = 0); --out holds x/s there
    JsonArray sg = grid.getAsJsonArray("sigmas");
    double last = sg.get(sg.size() - 1).getAsDouble();
    double sLast = 1 / Math.sqrt(1 + last * last);
    double[] got = Npy.read(out).data();
    double[] want = Npy.read(REF.resolve("pndm-prk-leading-10.npy")).data();
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i] * sLast, 1e-5, "element " + i);
    }
    Cli.Run t = Cli.run("grid", "--scheduler-config", cfg.toString(), "--steps", "10");
    assertTrue(t.out().contains("PNDMScheduler timesteps (one per model call, 19 calls): 900, 850, 850, 800"), t.out());
  }

  @Test
  void conflictingOptionsAndUnsupportedConfigsAreOneLineErrors(@TempDir Path dir) throws Exception {
    Path cfg = Files.writeString(dir.resolve("c.json"), "{\"_class_name\":\"EulerDiscreteScheduler\"}");
    Cli.Run a = Cli.run("grid", "--scheduler-config", cfg.toString(), "--process", "vp");
    assertEquals(2, a.code());
    assertTrue(a.err().contains("--process does not combine with --scheduler-config"), a.err());
    Path bad = Files.writeString(dir.resolve("b.json"), "{\"_class_name\":\"EulerDiscreteScheduler\",\"karras\":1}");
    Cli.Run b = Cli.run("grid", "--scheduler-config", bad.toString());
    assertEquals(2, b.code());
    assertTrue(b.err().contains("karras") && b.err().contains("not supported"), b.err());
    Path mix = Files.writeString(dir.resolve("mix.json"),
        JsonText.readObject(REF.resolve("index.json")).get("mixture").toString());
    // Without --sampler (and without a config): the default, auto, for NFE = --steps.
    Cli.Run c = Cli.run("sample", "--model", mix.toString(), "--steps", "5", "--out", dir.resolve("x.npy").toString());
    assertEquals(0, c.code(), c.err());
    assertTrue(c.out().contains("auto (ODE)") && c.out().contains("NFE       5") && c.out().contains("auto      "),
        c.out());
  }

  @Test
  void aTrainedRunSamplesWithTheConfigsProcessGridAndSampler(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("moons");
    Cli.Run t = Cli.run("train", "--data", "two-moons", "--out", run.toString(), "--quiet", "--hidden", "16",
        "--blocks", "1", "--batch", "64", "--steps", "5");
    assertEquals(0, t.code(), t.err());
    String json = run("dpmpp-3m-10").getAsJsonObject("config").toString();
    Path cfg = Files.writeString(dir.resolve("scheduler_config.json"), json);
    Path out = dir.resolve("x.npy");
    Cli.Run s = Cli.sample(run, out, "--scheduler-config", cfg.toString(), "--steps", "10", "--seeds", "0-3");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("dpm-multistep (DPMSolverMultistepScheduler)") && s.out().contains("process ddpm"),
        s.out());
    // The same run from Java: the scheduler's sampler and grid on the run's denoiser, diffusers' initial latents.
    org.diffusion4j.schedule.DiffusersScheduler ds =
        org.diffusion4j.schedule.DiffusersScheduler.fromJson(json, "cfg", 10);
    double[] want;
    try (org.diffusion4j.train.loop.TrainedModel tm = org.diffusion4j.train.loop.TrainedModel.load(run, true)) {
      long[] seeds = {0, 1, 2, 3};
      double[] x0 = org.diffusion4j.sampling.Sampling.prior(ds.grid(), seeds, 2);
      double c = ds.initialScale() / (ds.grid().s(0) * ds.grid().sigma(0));
      for (int i = 0; i < x0.length; i++) {
        x0[i] *= c;
      }
      want = org.diffusion4j.sampling.Sampling.of(tm.denoiser(), 2).sampler(ds.sampler()).grid(ds.grid())
          .seeds(seeds).initial(x0).run().samples();
      for (int i = 0; i < want.length; i++) {
        want[i] = tm.config().scaling().invert(want[i]);
      }
    }
    double[] got = Npy.read(out).data();
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 1e-9 * (1 + Math.abs(want[i])));
    }
    Cli.Run bad = Cli.sample(run, out, "--scheduler-config", cfg.toString(), "--sampler", "heun");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--sampler does not combine with --scheduler-config"), bad.err());
  }
}
