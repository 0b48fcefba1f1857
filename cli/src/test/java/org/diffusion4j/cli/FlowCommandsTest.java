package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** d4j train --objective ot-cfm --source, d4j transport, d4j reflow, and their errors. */
class FlowCommandsTest {
  @TempDir Path dir;

  @Test
  void trainMeasureAndReflowAToyToToyFlow() {
    Path run = dir.resolve("ot");
    Cli.Run t = Cli.run("train", "--data", "two-moons", "--objective", "ot-cfm", "--source", "8-gaussians", "--steps",
        "60", "--batch", "64", "--hidden", "32", "--blocks", "1", "--warmup", "5", "--quiet", "--out", run.toString());
    assertEquals(0, t.code(), t.err());
    assertTrue(Files.isDirectory(run.resolve("samples")));
    Cli.Run r = Cli.run("transport", "--model", run.toString(), "--n", "300", "--euler", "1,4");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("straightness S") && r.out().contains("exact OT"), r.out());
    assertTrue(r.out().contains("coupling exact"), r.out());
    Path rf = dir.resolve("rf");
    Cli.Run f = Cli.run("reflow", "--model", run.toString(), "--pairs", "300", "--rounds", "2", "--steps", "20",
        "--batch", "64", "--ode-steps", "4", "--out", rf.toString());
    assertEquals(0, f.code(), f.err());
    assertTrue(Files.isRegularFile(rf.resolve("round-2").resolve("pairs.npy")));
    assertTrue(f.out().contains("round-2: 20 steps"), f.out());
    // Rounds refuse a directory that holds something else.
    Cli.Run again = Cli.run("reflow", "--model", run.toString(), "--out", rf.toString());
    assertEquals(2, again.code());
  }

  @Test
  void flowOptionsOutsideFlowMatchingAreRefused() {
    Cli.Run t = Cli.run("train", "--data", "two-moons", "--objective", "edm", "--source", "8-gaussians", "--steps", "5",
        "--out", dir.resolve("x").toString());
    assertEquals(2, t.code());
    assertTrue(t.err().contains("--source applies to the flow-matching objectives"), t.err());
    Cli.Run bad = Cli.run("train", "--data", "two-moons", "--objective", "cfm", "--fm-path", "spiral", "--steps", "5",
        "--out", dir.resolve("y").toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("unknown path 'spiral'"), bad.err());
    Cli.Run notFlow = Cli.run("transport", "--model", dir.resolve("none").toString());
    assertEquals(2, notFlow.code());
  }
}
