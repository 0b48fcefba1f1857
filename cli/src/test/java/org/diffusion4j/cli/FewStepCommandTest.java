package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Consistency training, consistency distillation and few-step sampling from the command line. */
class FewStepCommandTest {
  @TempDir Path dir;

  private static Cli.Run train(Path run, String... extra) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--out", run.toString(), "--quiet",
        "--hidden", "32", "--blocks", "1", "--batch", "64", "--data", "two-moons", "--steps", "12"));
    args.addAll(java.util.List.of(extra));
    return Cli.run(args.toArray(new String[0]));
  }

  @Test
  void consistencyTrainingAndDistillationRunsSampleWithTheirOwnFewStepSampler() throws Exception {
    Path ct = dir.resolve("ct");
    Cli.Run r = train(ct, "--objective", "ct");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(ct.resolve("config.json")).contains("\"objective\": \"ct\"")
        || Files.readString(ct.resolve("config.json")).contains("\"objective\":\"ct\""));
    assertTrue(Files.readString(ct.resolve("metrics.jsonl")).contains("\"N\":"), "the CT loss logs N(k)");
    r = Cli.run("sample", "--model", ct.toString(), "--steps", "2", "--seeds", "0-99", "--out", dir.resolve("ct.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("flowmap") && r.out().contains("NFE       2"), r.out());

    Path teacher = dir.resolve("teacher");
    assertEquals(0, train(teacher).code());
    Path cd = dir.resolve("cd");
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "cd", "--steps", "6", "--batch", "32",
        "--levels", "6", "--out", cd.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(cd.resolve("config.json")).contains("cd"));
    r = Cli.run("sample", "--model", cd.toString(), "--steps", "1", "--seeds", "0-49", "--out", dir.resolve("cd.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("NFE       1"), r.out());

    // One progressive-distillation round: an ordinary denoiser for DDIM on N Karras steps.
    Path pd = dir.resolve("pd");
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "pd", "--levels", "2", "--steps", "6", "--batch",
        "32", "--out", pd.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(pd.resolve("config.json")).contains("edm"));
    r = Cli.run("sample", "--model", pd.toString(), "--sampler", "ddim", "--grid", "karras", "--steps", "2", "--seeds",
        "0-49", "--out", dir.resolve("pd.npy").toString());
    assertEquals(0, r.code(), r.err());

    Path kd = dir.resolve("kd");
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "kd", "--levels", "3", "--steps", "4", "--batch",
        "16", "--out", kd.toString());
    assertEquals(0, r.code(), r.err());
    r = Cli.run("sample", "--model", kd.toString(), "--steps", "1", "--seeds", "0-9", "--out", dir.resolve("kd.npy").toString());
    assertEquals(0, r.code(), r.err());

    Path mf = dir.resolve("mf");
    r = train(mf, "--objective", "mf");
    assertEquals(0, r.code(), r.err());
    r = Cli.run("sample", "--model", mf.toString(), "--steps", "2", "--seeds", "0-49", "--out", dir.resolve("mf.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("flowmap") && r.out().contains("NFE       2") && r.out().contains("process flow"), r.out());

    // An ordinary run defaults to auto (NFE = steps); unknown methods are refused.
    r = Cli.run("sample", "--model", teacher.toString(), "--steps", "2", "--out", dir.resolve("t.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("auto on run") && r.out().contains("NFE       2"), r.out());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "xyz", "--out", dir.resolve("x").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("accepted: cd, pd, kd"), r.err());
  }

  @Test
  void sCmCtmDmdAndMeanFlowDistillationRunsSampleInOneToFourStepsAndConsistencyRunsRefuseAnOdeSampler()
      throws Exception {
    Path teacher = dir.resolve("teacher");
    assertEquals(0, train(teacher).code());
    Path sct = dir.resolve("sct");
    Cli.Run r = train(sct, "--objective", "sct");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(sct.resolve("metrics.jsonl")).contains("\"r\":"), "sCT logs the tangent warm-up r");
    r = Cli.run("sample", "--model", sct.toString(), "--steps", "2", "--seeds", "0-49", "--out", dir.resolve("sct.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("NFE       2"), r.out());
    for (String method : new String[] {"scd", "ctm", "dmd", "mf"}) {
      Path out = dir.resolve(method);
      r = Cli.run("distill", "--teacher", teacher.toString(), "--method", method, "--steps", "4", "--batch", "16",
          "--levels", "6", "--fake-updates", "2", "--out", out.toString());
      assertEquals(0, r.code(), method + ": " + r.err());
      assertTrue(Files.readString(out.resolve("config.json")).contains("\"" + method + "\""), method);
      for (String steps : new String[] {"1", "4"}) {
        r = Cli.run("sample", "--model", out.toString(), "--steps", steps, "--seeds", "0-19", "--out",
            dir.resolve(method + steps + ".npy").toString());
        assertEquals(0, r.code(), method + ": " + r.err());
        assertTrue(r.out().contains("NFE       " + steps), method + ": " + r.out());
      }
    }
    // A consistency model is not a denoiser: an ODE sampler on it is refused; a two-time model's g(x, σ, σ) is one.
    r = Cli.run("sample", "--model", dir.resolve("scd").toString(), "--sampler", "heun", "--steps", "4", "--out",
        dir.resolve("h.npy").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("consistency model") && r.err().contains("omit --sampler"), r.err());
    r = Cli.run("sample", "--model", dir.resolve("ctm").toString(), "--sampler", "heun", "--steps", "4", "--seeds", "0-9",
        "--out", dir.resolve("h2.npy").toString());
    assertEquals(0, r.code(), r.err());
  }
}
