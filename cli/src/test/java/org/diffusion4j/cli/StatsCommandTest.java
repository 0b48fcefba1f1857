package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.sampling.ode.ModelStatistics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatsCommandTest {
  private static final Path MODEL = Path.of("../examples/gmm2d.json");

  @Test
  void statsFileFeedsDpmSolverV3AndBadOnesAreRefused(@TempDir Path dir) throws Exception {
    Path stats = dir.resolve("stats.json");
    Cli.Run r = Cli.run("stats", "--model", MODEL.toString(), "--out", stats.toString(), "--knots", "30", "--samples",
        "32");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("wrote") && r.out().contains("sigma 0.002"), r.out());
    ModelStatistics st = ModelStatistics.read(stats);
    assertEquals(30, st.lambdas().length);
    assertEquals(2, st.dim());

    Cli.Run s = Cli.sample(MODEL, dir.resolve("x.npy"), "--sampler", "dpm-solver-v3", "--param",
        "stats=" + stats, "--steps", "6", "--seeds", "0-7");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().contains("stats     ") && s.out().contains(stats.toString()), s.out());
    assertTrue(s.out().contains("NFE       6"), s.out());

    // No file: says what it uses.
    Cli.Run plain = Cli.sample(MODEL, dir.resolve("y.npy"), "--sampler", "dpm-solver-v3", "--steps", "6", "--seeds",
        "0-7");
    assertEquals(0, plain.code(), plain.err());
    assertTrue(plain.out().contains("data prediction (l = 1, s = 0, b = 0): DPM-Solver++ (no statistics file given"),
        plain.out());

    // The VP process reaches σ ≈ 157, outside the file's 0.002 … 80.
    Cli.Run vp = Cli.sample(MODEL, dir.resolve("z.npy"), "--sampler", "dpm-solver-v3", "--param", "stats=" + stats,
        "--process", "vp", "--steps", "6");
    assertEquals(2, vp.code(), vp.out());
    assertTrue(vp.err().contains("cover sigma 0.00200000 to 80.0000") && vp.err().contains("process vp"), vp.err());
    assertFalse(Files.exists(dir.resolve("z.npy")));

    // Not a statistics file.
    Cli.Run bad = Cli.sample(MODEL, dir.resolve("w.npy"), "--sampler", "dpm-solver-v3", "--param", "stats=" + MODEL,
        "--steps", "6");
    assertEquals(2, bad.code(), bad.out());
    assertTrue(bad.err().contains("dpm-solver-v3-statistics"), bad.err());
  }
}
