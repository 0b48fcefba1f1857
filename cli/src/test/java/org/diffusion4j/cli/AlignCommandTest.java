package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlignCommandTest {
  @TempDir Path dir;

  @Test
  void dpoOnSyntheticPreferencesReportsTheWinRateAndWritesASampleableRun() throws Exception {
    Path run = dir.resolve("moons");
    assertEquals(0, Cli.run("train", "--data", "two-moons", "--out", run.toString(), "--quiet", "--steps", "60",
        "--hidden", "32", "--blocks", "1", "--batch", "128").code());
    Path tuned = dir.resolve("tuned");
    Cli.Run r = Cli.run("align", "--model", run.toString(), "--synthetic", "near:1.5,0", "--method", "dpo",
        "--steps", "20", "--pairs-n", "200", "--batch", "64", "--sample-steps", "6", "--out", tuned.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("win rate") && r.out().contains("score     reference"), r.out());
    assertEquals(0, Cli.sample(tuned, dir.resolve("t.npy"), "--sampler", "heun", "--steps", "4", "--seeds", "0-9")
        .code());
    Cli.Run resume = Cli.run("train", "--out", tuned.toString(), "--resume", "--steps", "40", "--quiet");
    assertEquals(2, resume.code());
    assertTrue(resume.err().contains("d4j align"), resume.err());
    Cli.Run bad = Cli.run("align", "--model", run.toString(), "--method", "rw", "--pairs", "x.npz", "--out",
        dir.resolve("x").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--synthetic"), bad.err());
    bad = Cli.run("align", "--model", run.toString(), "--synthetic", "shiny", "--out", dir.resolve("y").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("near:"), bad.err());
    assertTrue(!Files.exists(dir.resolve("y").resolve("config.json")));

    // --resume continues the fine-tuning run to more steps; options that would change it are refused.
    r = Cli.run("align", "--out", tuned.toString(), "--resume", "--steps", "30");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("resumed " + tuned + " to step 30"), r.out());
    assertTrue(Files.readString(tuned.resolve("config.json")).contains("\"steps\":30")
        || Files.readString(tuned.resolve("config.json")).contains("\"steps\": 30"));
    bad = Cli.run("align", "--out", tuned.toString(), "--resume", "--beta", "3");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--resume: --beta would change the run"), bad.err());
    bad = Cli.run("align", "--out", run.toString(), "--resume");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("holds no fine-tuning run"), bad.err());
    bad = Cli.run("align", "--out", dir.resolve("z").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("give --model RUN"), bad.err());

    // Reward guidance: a reward model, the guided win rate, then d4j sample --reward.
    Path rg = dir.resolve("rg");
    r = Cli.run("align", "--model", run.toString(), "--synthetic", "near:1.5,0", "--method", "reward-guidance",
        "--beta", "0.5", "--steps", "60", "--pairs-n", "200", "--batch", "64", "--sample-steps", "6",
        "--out", rg.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("reward guidance with scale 1/β = 2") && r.out().contains("reward-guided"), r.out());
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("reference (-?[0-9.]+), reward-guided (-?[0-9.]+)")
        .matcher(r.out());
    assertTrue(m.find(), r.out());
    assertTrue(Double.parseDouble(m.group(2)) > Double.parseDouble(m.group(1)), "guidance raises the score: " + r.out());
    r = Cli.sample(run, dir.resolve("rg.npy"), "--reward", rg.toString(), "--reward-scale", "2", "--sampler", "euler",
        "--steps", "6", "--seeds", "0-9");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("reward guidance S = 2"), r.out());
    bad = Cli.sample(run, dir.resolve("x.npy"), "--reward", run.toString(), "--sampler", "euler");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("not a reward model"), bad.err());
    bad = Cli.sample(run, dir.resolve("x.npy"), "--reward-scale", "2", "--sampler", "euler");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("--reward-scale applies to --reward only"), bad.err());
  }
}
