package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleCommandTest {
  static final String GMM = "{\"type\":\"gaussian-mixture\",\"weights\":[0.5,0.3,0.2],"
      + "\"means\":[[-1.0,0.5],[1.2,-0.4],[0.2,1.5]],\"stds\":[0.3,0.5,0.2]}";

  @TempDir
  Path dir;
  Path model;

  @BeforeEach
  void writeModel() throws IOException {
    model = dir.resolve("gmm.json");
    Files.writeString(model, GMM);
  }

  private Cli.Run sample(Path out, String... extra) {
    return Cli.sample(model, out, extra);
  }

  @Test
  void writesNpyOfFinalSamplesAndReportsNfeAndError() throws IOException {
    Path out = dir.resolve("x.npy");
    Cli.Run r = sample(out, "--sampler", "heun", "--steps", "5", "--seeds", "0-9");
    assertEquals(0, r.code(), r.err());
    NpyArray a = Npy.read(out);
    assertArrayEquals(new long[] {10, 2}, a.shape());
    assertTrue(r.out().contains("NFE       9"), r.out());
    assertTrue(r.out().contains("against the exact PF-ODE"), r.out());
  }

  @Test
  void heunErrorShrinksWithSteps() {
    double e10 = rmsError(sample(dir.resolve("a.npy"), "--sampler", "heun", "--steps", "10", "--seeds", "0-31"));
    double e40 = rmsError(sample(dir.resolve("b.npy"), "--sampler", "heun", "--steps", "40", "--seeds", "0-31"));
    // Second order: 4x the steps should shrink the error by well over 4x (nominally 16x).
    assertTrue(e40 < e10 / 4 && e40 < 1e-2, "heun RMS error 10 steps " + e10 + ", 40 steps " + e40);
  }

  private static double rmsError(Cli.Run r) {
    assertEquals(0, r.code(), r.err());
    Matcher m = Pattern.compile("RMS (\\S+),").matcher(r.out());
    assertTrue(m.find(), r.out());
    return Double.parseDouble(m.group(1));
  }

  @Test
  void writesPngFor2dModels() throws IOException {
    Path out = dir.resolve("x.png");
    Cli.Run r = sample(out, "--sampler", "euler", "--steps", "4", "--seeds", "0-15");
    assertEquals(0, r.code(), r.err());
    BufferedImage img = ImageIO.read(out.toFile());
    assertTrue(img != null && img.getWidth() >= 300 && img.getHeight() >= 300, "PNG not readable or too small");
  }

  @Test
  void trajectoryHasStepsPlusOnePointsAndEndsAtTheOutput() throws IOException {
    Path out = dir.resolve("x.npy");
    Path traj = dir.resolve("t.npy");
    Cli.Run r = sample(out, "--sampler", "heun", "--steps", "6", "--seeds", "3-7", "--trajectory", traj.toString());
    assertEquals(0, r.code(), r.err());
    NpyArray t = Npy.read(traj);
    assertArrayEquals(new long[] {7, 5, 2}, t.shape());
    double[] x = Npy.read(out).data();
    for (int i = 0; i < x.length; i++) {
      // EDM: s = 1, so the last trajectory point (process coordinates) equals the data-scale output.
      assertEquals(x[i], t.data()[6 * 10 + i], 1e-12);
    }
  }

  @Test
  void outputDoesNotDependOnBatchSize() throws IOException {
    String id = SamplerRegistry.all().stream().filter(SamplerInfo::stochastic).map(SamplerInfo::id).findFirst()
        .orElse("heun");
    Path a = dir.resolve("b1.npy");
    Path b = dir.resolve("b3.npy");
    assertEquals(0, sample(a, "--sampler", id, "--steps", "5", "--seeds", "0-9", "--batch", "1").code());
    assertEquals(0, sample(b, "--sampler", id, "--steps", "5", "--seeds", "0-9", "--batch", "3").code());
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "sampler " + id);
  }

  @Test
  void noiseFileAndEquivalentInitGiveTheSameSamples() throws IOException {
    double[] eps = {0.3, -1.2, 1.1, 0.4, -0.7, 0.05};
    Path noise = dir.resolve("eps.npy");
    Npy.write(noise, eps, new long[] {3, 2}, false);
    double[] init = new double[eps.length];
    for (int i = 0; i < eps.length; i++) {
      init[i] = 80 * eps[i]; // EDM's default karras grid starts at σ = 80 with s = 1.
    }
    Path initFile = dir.resolve("init.npy");
    Npy.write(initFile, init, new long[] {3, 2}, false);
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    assertEquals(0, sample(a, "--sampler", "heun", "--steps", "8", "--noise", noise.toString()).code());
    assertEquals(0, sample(b, "--sampler", "heun", "--steps", "8", "--init", initFile.toString()).code());
    assertArrayEquals(Npy.read(a).data(), Npy.read(b).data(), 1e-12);
  }

  @Test
  void float32RunStaysCloseToFloat64() throws IOException {
    Path a = dir.resolve("f64.npy");
    Path b = dir.resolve("f32.npy");
    assertEquals(0, sample(a, "--sampler", "heun", "--steps", "10", "--seeds", "0-7").code());
    assertEquals(0, sample(b, "--sampler", "heun", "--steps", "10", "--seeds", "0-7", "--dtype", "float32").code());
    NpyArray f32 = Npy.read(b);
    assertEquals("<f4", f32.dtype());
    assertArrayEquals(Npy.read(a).data(), f32.data(), 1e-3);
  }

  @Test
  void helpTeachesWithDefaultsAndExamples() {
    Cli.Run r = Cli.run("sample", "--help");
    assertEquals(0, r.code());
    String help = r.out().replaceAll("\\s+", " ");
    for (String s : List.of("--sampler", "--steps", "default: 18", "default: float64", "0-63", "Examples:",
        "--param", "gaussian-mixture")) {
      assertTrue(help.contains(s), "'" + s + "' missing from help:\n" + r.out());
    }
  }
}
