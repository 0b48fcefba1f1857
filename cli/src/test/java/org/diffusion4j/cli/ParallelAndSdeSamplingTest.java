package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code d4j sample --sampler paradigms|sde}: depth next to the NFE, the right check, refusals on one line. */
class ParallelAndSdeSamplingTest {
  @TempDir
  Path dir;
  Path model;

  @BeforeEach
  void writeModel() throws IOException {
    model = dir.resolve("gmm.json");
    Files.writeString(model, SampleCommandTest.GMM);
  }

  @Test
  void paradigmsPrintsItsDepthAndMatchesTheExactFlowLikeEuler() {
    Cli.Run r = Cli.sample(model, dir.resolve("p.npy"), "--sampler", "paradigms", "--param", "window=8", "--steps",
        "40", "--seeds", "0-15");
    assertEquals(0, r.code(), r.err());
    Matcher m = Pattern.compile("NFE       (\\d+) \\(sequential depth (\\d+) batched calls\\)").matcher(r.out());
    assertTrue(m.find(), r.out());
    int nfe = Integer.parseInt(m.group(1));
    int depth = Integer.parseInt(m.group(2));
    assertTrue(depth < 40 && nfe >= 40, r.out());
    assertTrue(r.out().contains("against the exact PF-ODE"), r.out());
    Cli.Run e = Cli.sample(model, dir.resolve("e.npy"), "--sampler", "euler", "--steps", "40", "--seeds", "0-15");
    assertTrue(e.out().contains("NFE       40\n") || e.out().contains("NFE       40" + System.lineSeparator()), e.out());
    assertEquals(rms(e.out()), rms(r.out()), 0.1 * rms(e.out()), "paradigms τ 0.1 errs like euler\n" + r.out());
  }

  private static double rms(String out) {
    Matcher m = Pattern.compile("error     RMS ([0-9.eE+-]+)").matcher(out);
    assertTrue(m.find(), out);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void sdeRunsADistributionCheckAndRefusesBadCombinations() {
    Cli.Run r = Cli.sample(model, dir.resolve("s.npy"), "--sampler", "sde", "--param", "eta=0.5", "--steps", "60",
        "--seeds", "0-199");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("sde (SDE)") && r.out().contains("distribution check"), r.out());
    Cli.Run ode = Cli.sample(model, dir.resolve("o.npy"), "--sampler", "sde", "--param", "eta=0", "--steps", "20");
    assertTrue(ode.out().contains("sde (ODE)") && ode.out().contains("against the exact PF-ODE"), ode.out());
    Cli.Run bad = Cli.sample(model, dir.resolve("b.npy"), "--sampler", "sde", "--param", "frame=time", "--param",
        "method=heun");
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("frame=sigma"), bad.err());
    Cli.Run tol = Cli.sample(model, dir.resolve("t.npy"), "--sampler", "paradigms", "--param", "tolerance=1e-14");
    assertEquals(2, tol.code());
    assertTrue(tol.err().contains("tolerance") && tol.err().contains("1e-10"), tol.err());
  }
}
