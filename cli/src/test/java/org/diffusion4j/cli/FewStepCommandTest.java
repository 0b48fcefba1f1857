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
    assertTrue(r.out().contains("step 6/6  loss"), r.out());
    // A distillation continues with --resume (here: extended by two steps); what would change it is refused.
    r = Cli.run("distill", "--out", cd.toString(), "--resume", "--steps", "8");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("step 8/8") && r.out().contains("(step 8)"), r.out());
    r = Cli.run("distill", "--out", cd.toString(), "--resume", "--method", "pd");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--resume: --method would change the run"), r.err());
    r = Cli.run("distill", "--method", "cd", "--out", dir.resolve("none").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("give --teacher RUN"), r.err());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "cd", "--mf-power", "0.5", "--out",
        dir.resolve("cd-mf").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mf-power applies to --method mf only, not cd"), r.err());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "mf", "--mf-power", "-1", "--out",
        dir.resolve("mf-bad").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mf-power must be finite and >= 0, got -1.0"), r.err());
    // d4j eval measures a few-step run with its own sampler (as d4j sample does) and refuses an ODE sampler.
    r = Cli.run("eval", "--model", cd.toString(), "--steps", "1,2", "--n", "50", "--metrics", "swd", "--json");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("\"sampler\": \"flowmap\"") && r.out().contains("\"nfe\": 1")
        && r.out().contains("\"nfe\": 2"), r.out());
    r = Cli.run("eval", "--model", cd.toString(), "--sampler", "heun", "--n", "50", "--metrics", "swd");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("is a consistency model"), r.err());
    // Commands that integrate the PF-ODE of D(x̂; σ) refuse a consistency run.
    for (String[] command : new String[][] {{"nll"}, {"lab"}, {"stats", "--out", dir.resolve("s.json").toString()}}) {
      java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of(command));
      a.addAll(java.util.List.of("--model", cd.toString()));
      r = Cli.run(a.toArray(new String[0]));
      assertEquals(2, r.code(), command[0] + ": " + r.err());
      assertTrue(r.err().contains("is a few-step flow-map model"), command[0] + ": " + r.err());
    }
    r = Cli.run("train", "--out", cd.toString(), "--resume");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("continue it with d4j distill --out " + cd + " --resume"), r.err());
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
    // Mean Flow from scratch takes the distillation's knobs; they are stored, kept on --resume, refused elsewhere.
    Path mfp = dir.resolve("mf-p");
    r = train(mfp, "--objective", "mf", "--mf-power", "0.5", "--mf-unequal", "0.5");
    assertEquals(0, r.code(), r.err());
    org.diffusion4j.train.distill.FlowMapSettings stored = org.diffusion4j.train.distill.FlowMapSettings.read(
        Files.readString(mfp.resolve("config.json")), "config");
    assertEquals(org.diffusion4j.train.distill.FlowMapSettings.DEFAULT.withMeanFlow(0.5, 0.5), stored);
    r = Cli.run("train", "--out", mfp.toString(), "--resume", "--steps", "14", "--quiet");
    assertEquals(0, r.code(), r.err());
    assertEquals(stored, org.diffusion4j.train.distill.FlowMapSettings.read(
        Files.readString(mfp.resolve("config.json")), "config"), "kept on --resume");
    r = Cli.run("train", "--out", mfp.toString(), "--resume", "--mf-power", "1");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mf-power"), r.err());
    r = train(dir.resolve("ct-p"), "--objective", "ct", "--mf-power", "0.5");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mf-power applies to --objective mf only, not ct"), r.err());
    r = train(dir.resolve("mf-scm"), "--objective", "mf", "--scm-p-mean", "-1.5");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--scm-p-mean applies to --objective sct only, not mf"), r.err());
    r = train(dir.resolve("mf-bad"), "--objective", "mf", "--mf-unequal", "1.5");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mf-unequal must lie in [0, 1], got 1.5"), r.err());

    // An ordinary run defaults to auto (NFE = steps); unknown methods are refused.
    r = Cli.run("sample", "--model", teacher.toString(), "--steps", "2", "--out", dir.resolve("t.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("auto on run") && r.out().contains("NFE       2"), r.out());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "xyz", "--out", dir.resolve("x").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("accepted: cd, pd, guided-pd, kd"), r.err());
  }

  @Test
  void sCmCtmDmdAndMeanFlowDistillationRunsSampleInOneToFourStepsAndConsistencyRunsRefuseAnOdeSampler()
      throws Exception {
    Path teacher = dir.resolve("teacher");
    assertEquals(0, train(teacher).code());
    Path sct = dir.resolve("sct");
    Cli.Run r = train(sct, "--objective", "sct", "--scm-p-mean", "-1.5");
    assertEquals(0, r.code(), r.err());
    assertEquals(org.diffusion4j.train.distill.FlowMapSettings.DEFAULT.withScm(-1.5, 1.4),
        org.diffusion4j.train.distill.FlowMapSettings.read(Files.readString(sct.resolve("config.json")), "config"),
        "sCT's noise-level draw is stored with the run");
    assertTrue(Files.readString(sct.resolve("metrics.jsonl")).contains("\"r\":"), "sCT logs the tangent warm-up r");
    r = Cli.run("sample", "--model", sct.toString(), "--steps", "2", "--seeds", "0-49", "--out", dir.resolve("sct.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("NFE       2"), r.out());
    // --mid sets the intermediate level of the few-step grid (default σ_d·tan 1.1 for two-step sCM).
    r = Cli.run("sample", "--model", sct.toString(), "--steps", "2", "--mid", "0.3", "--seeds", "0-49", "--out",
        dir.resolve("sct-mid.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.mismatch(dir.resolve("sct.npy"), dir.resolve("sct-mid.npy")) >= 0, "another level, other samples");
    double sigmaData = org.diffusion4j.train.loop.RunConfig.fromJson(Files.readString(sct.resolve("config.json")),
        "config").sigmaData();
    r = Cli.run("sample", "--model", sct.toString(), "--steps", "2", "--mid", String.valueOf(sigmaData * Math.tan(1.1)),
        "--seeds", "0-49", "--out", dir.resolve("sct-default.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(-1, Files.mismatch(dir.resolve("sct.npy"), dir.resolve("sct-default.npy")), "the default level");
    r = Cli.run("sample", "--model", sct.toString(), "--steps", "3", "--mid", "0.3", "--seeds", "0-9", "--out",
        dir.resolve("bad.npy").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mid needs steps - 1 = 2 intermediate level(s) for 3 step(s), got 1"), r.err());
    r = Cli.run("eval", "--model", sct.toString(), "--steps", "1,2", "--mid", "0.3", "--n", "50", "--metrics", "swd",
        "--json");
    assertEquals(0, r.code(), r.err());
    r = Cli.run("eval", "--model", sct.toString(), "--steps", "1,4", "--mid", "0.3", "--n", "50", "--metrics", "swd");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--mid has 1 level(s), for a grid of 2 steps, but --steps is [1, 4]"), r.err());
    r = Cli.run("sample", "--model", teacher.toString(), "--steps", "2", "--mid", "0.3", "--out",
        dir.resolve("bad2.npy").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("is not a few-step model: use --grid"), r.err());
    // sCD's noise-level draw: stored in the run's note, refused for other methods and on --resume.
    Path scdP = dir.resolve("scd-p");
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "scd", "--scm-p-mean", "-2", "--steps", "3",
        "--batch", "16", "--out", scdP.toString());
    assertEquals(0, r.code(), r.err());
    com.google.gson.JsonObject note = com.google.gson.JsonParser.parseString(Files.readString(scdP.resolve("config.json")))
        .getAsJsonObject().getAsJsonObject("distillation");
    assertEquals(-2.0, note.get("scm_p_mean").getAsDouble());
    assertEquals(1.6, note.get("scm_p_std").getAsDouble());
    r = Cli.run("distill", "--out", scdP.toString(), "--resume", "--scm-p-mean", "-1");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--scm-p-mean"), r.err());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "ctm", "--scm-p-std", "1", "--out",
        dir.resolve("ctm-p").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--scm-p-std applies to --method scd only, not ctm"), r.err());
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

  @Test
  void guidedDistillationTakesWAsAnInputAndItsPdRoundKeepsTheRange() throws Exception {
    Path json = dir.resolve("lr.json");
    Files.writeString(json, "{\"type\":\"gaussian-mixture\",\"weights\":[1,1,1],"
        + "\"means\":[[-1,0],[0,1],[1,0]],\"stds\":[0.3,0.3,0.3],\"labels\":[0,0,1]}");
    Path teacher = dir.resolve("cond");
    Cli.Run r = Cli.run("train", "--data", "gmm:" + json, "--out", teacher.toString(), "--quiet", "--hidden", "16",
        "--blocks", "1", "--batch", "32", "--steps", "6", "--class-conditional");
    assertEquals(0, r.code(), r.err());
    Path g = dir.resolve("g");
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "guided-pd", "--guidance-range", "0.5,3",
        "--steps", "4", "--batch", "16", "--out", g.toString());
    assertEquals(0, r.code(), r.err());
    String config = Files.readString(g.resolve("config.json")).replace(" ", "");
    assertTrue(config.contains("\"guidanceLo\":0.5") && config.contains("\"guidanceHi\":3.0"), config);
    r = Cli.run("sample", "--model", g.toString(), "--sampler", "heun", "--steps", "4", "--guidance", "2", "--class",
        "0", "--seeds", "0-9", "--out", dir.resolve("g.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("guided student at w = 2"), r.out());
    // The student needs w and a class; CFG's interval options do not apply to it.
    r = Cli.run("sample", "--model", g.toString(), "--sampler", "heun", "--steps", "4", "--out",
        dir.resolve("x.npy").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("guided-distillation student") && r.err().contains("--guidance W"), r.err());
    r = Cli.run("sample", "--model", g.toString(), "--sampler", "heun", "--steps", "4", "--guidance", "2", "--class",
        "0", "--guidance-rescale", "0.5", "--out", dir.resolve("x.npy").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("do not apply"), r.err());
    // Stage two: a pd round of the student, still w-conditioned.
    Path g2 = dir.resolve("g2");
    r = Cli.run("distill", "--teacher", g.toString(), "--method", "pd", "--levels", "2", "--steps", "4", "--batch", "16",
        "--out", g2.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(g2.resolve("config.json")).replace(" ", "").contains("\"guidanceHi\":3.0"));
    r = Cli.run("sample", "--model", g2.toString(), "--sampler", "ddim", "--grid", "karras", "--steps", "2",
        "--guidance", "3", "--class", "1", "--seeds", "0-9", "--out", dir.resolve("g2.npy").toString());
    assertEquals(0, r.code(), r.err());
    // Refusals name the problem: an unconditional teacher, a bad range, the range on another method.
    r = Cli.run("distill", "--teacher", dir.resolve("g").toString(), "--method", "guided-pd", "--steps", "2", "--out",
        dir.resolve("no1").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("already a guided student"), r.err());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "guided-pd", "--guidance-range", "3,1",
        "--out", dir.resolve("no2").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("lo < hi"), r.err());
    r = Cli.run("distill", "--teacher", teacher.toString(), "--method", "cd", "--guidance-range", "0,4",
        "--out", dir.resolve("no3").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("guided-pd only"), r.err());
    Path plain = dir.resolve("plain");
    assertEquals(0, train(plain).code());
    r = Cli.run("distill", "--teacher", plain.toString(), "--method", "guided-pd", "--out", dir.resolve("no4").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("class-conditional"), r.err());
  }
}
