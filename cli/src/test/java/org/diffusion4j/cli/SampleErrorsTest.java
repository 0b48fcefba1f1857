package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input to {@code d4j sample}: one line on stderr naming the value, exit code 2, no file written. */
class SampleErrorsTest {
  @TempDir
  Path dir;
  Path model;

  @BeforeEach
  void writeModel() throws IOException {
    model = dir.resolve("gmm.json");
    Files.writeString(model, SampleCommandTest.GMM);
  }

  private Cli.Run sample(Path out, String... extra) {
    return Cli.sample(model, out, extra);
  }

  private void assertUsageError(Cli.Run r, String... mentions) throws IOException {
    assertEquals(2, r.code(), "exit code; out=" + r.out() + " err=" + r.err());
    String err = r.err().strip();
    assertTrue(err.startsWith("d4j: error: "), err);
    assertEquals(1, err.lines().count(), "exactly one line: " + err);
    assertTrue(!err.contains("Exception") && !err.contains("\tat "), "no stack trace: " + err);
    for (String m : mentions) {
      assertTrue(err.contains(m), "'" + m + "' missing from: " + err);
    }
    try (Stream<Path> files = Files.list(dir)) {
      List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals("gmm.json")
          && !n.endsWith("in.npy") && !n.equals("bad.json")).toList();
      assertEquals(List.of(), names, "files left behind");
    }
  }

  @Test
  void unknownSamplerFails() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "nope"), "'nope'", "euler", "heun");
  }

  @Test
  void unknownParamFails() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--param", "bogus=1"), "'bogus'");
  }

  @Test
  void malformedParamFails() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--param", "bogus"), "'bogus'", "name=value");
  }

  @Test
  void wrongNoiseShapeFails() throws IOException {
    Path noise = dir.resolve("noise-in.npy");
    Npy.write(noise, new double[12], new long[] {4, 3}, true);
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--noise", noise.toString()), "[4, 3]",
        "[n, 2]");
  }

  @Test
  void seedsNotMatchingNoiseRowsFail() throws IOException {
    Path noise = dir.resolve("noise-in.npy");
    Npy.write(noise, new double[8], new long[] {4, 2}, false);
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--noise", noise.toString(), "--seeds",
        "0-9"), "10 seeds", "4 rows");
  }

  @Test
  void malformedJsonFails() throws IOException {
    Files.writeString(dir.resolve("bad.json"), "{\"type\": \"gaussian-mixture\", \"weights\": [1, ");
    model = dir.resolve("bad.json");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun"), "bad.json", "malformed");
  }

  @Test
  void wrongModelTypeFails() throws IOException {
    Files.writeString(dir.resolve("bad.json"), "{\"type\": \"unet\"}");
    model = dir.resolve("bad.json");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun"), "\"unet\"", "gaussian-mixture");
  }

  @Test
  void missingModelFileFails() throws IOException {
    model = dir.resolve("absent.json");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun"), "absent.json");
  }

  @Test
  void negativeSigmaFails() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--sigma-min", "-0.5"), "--sigma-min",
        "-0.5", "> 0");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--sigma-max", "-3"), "--sigma-max", "-3");
  }

  @Test
  void nonPositiveRhoFails() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--rho", "0"), "--rho", "> 0");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--rho", "-2"), "--rho", "-2");
  }

  @Test
  void stepsBelowOneFail() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--steps", "0"), "--steps", ">= 1", "0");
  }

  @Test
  void badOptionValuesFail() throws IOException {
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--steps", "abc"), "'abc'");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--dtype", "float16"), "float16", "float32");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--batch", "0"), "--batch", "0");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--seeds", "5-2"), "5-2");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--frobnicate"), "--frobnicate");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--process", "vq"), "'vq'", "edm");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--grid", "cosine"), "'cosine'", "karras");
    assertUsageError(sample(dir.resolve("x.txt"), "--sampler", "heun"), "x.txt", ".npy");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--grid", "trailing"), "ddpm");
    assertUsageError(sample(dir.resolve("x.npy"), "--sampler", "heun", "--train-steps", "500"), "--train-steps");
  }

  @Test
  void missingRequiredOptionFails() throws IOException {
    assertUsageError(Cli.run("sample", "--sampler", "heun", "--out", dir.resolve("x.npy").toString()), "--model");
  }


  @Test
  void outputsAndOptionsThatCannotApplyAreRefused() throws IOException {
    Path out = dir.resolve("x.npy");
    assertUsageError(sample(out, "--sampler", "heun", "--trajectory", out.toString()), "--trajectory", "same file");
    assertUsageError(sample(out, "--sampler", "heun", "--class", "3"), "--class", "trained runs");
    assertUsageError(sample(out, "--sampler", "heun", "--weights", "raw"), "--weights");
    assertTrue(!Files.exists(out));
  }

  @Test
  void theExactCheckIsBoundedAndCanBeSkipped() throws IOException {
    Path out = dir.resolve("x.npy");
    Cli.Run r = sample(out, "--sampler", "heun", "--steps", "4", "--seeds", "0-99", "--check-samples", "10");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("(first 10 of 100 samples)"), r.out());
    r = sample(out, "--sampler", "heun", "--steps", "4", "--seeds", "0-99", "--no-check");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("check     skipped"), r.out());
    Files.delete(out);
    assertUsageError(sample(out, "--sampler", "heun", "--check-samples", "0"), "--check-samples");
  }
}
