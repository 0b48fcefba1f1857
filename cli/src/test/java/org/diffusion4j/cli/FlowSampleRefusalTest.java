package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A toy-to-toy flow cannot be sampled from the Gaussian prior: d4j sample refuses it, naming what to use. */
class FlowSampleRefusalTest {
  @TempDir Path dir;

  @Test
  void aRunFromAnotherSourceIsRefusedNotMisSampled() throws Exception {
    Path run = dir.resolve("toy");
    Cli.Run t = Cli.run("train", "--data", "two-moons", "--objective", "cfm", "--source", "8-gaussians", "--steps", "6",
        "--hidden", "16", "--blocks", "1", "--batch", "32", "--quiet", "--out", run.toString());
    assertEquals(0, t.code(), t.err());
    Path out = dir.resolve("x.npy");
    Cli.Run r = Cli.sample(run, out, "--sampler", "heun", "--steps", "4", "--seeds", "0-3");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("8-gaussians") && r.err().contains("d4j transport"), r.err());
    assertTrue(!Files.exists(out));
  }
}
