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
  }
}
