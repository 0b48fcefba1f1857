package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code d4j train --class-conditional --label-dropout} and the steering options of {@code d4j sample}. */
class SteeringTest {
  @TempDir static Path dir;
  static Path run;
  static Path plain;

  @BeforeAll
  static void trainRuns() throws Exception {
    Path json = dir.resolve("lr.json");
    Files.writeString(json, "{\"type\":\"gaussian-mixture\",\"weights\":[1,1,1,1],"
        + "\"means\":[[-2,1],[-2,-1],[2,1],[2,-1]],\"stds\":[0.3,0.3,0.3,0.3],\"labels\":[0,0,1,1]}");
    run = dir.resolve("cond");
    Cli.Run r = Cli.run("train", "--data", "gmm:" + json, "--out", run.toString(), "--quiet", "--hidden", "16",
        "--blocks", "1", "--batch", "64", "--steps", "30", "--class-conditional", "--label-dropout", "0.2");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.readString(run.resolve("config.json")).contains("\"label_dropout\": 0.2"));
    plain = dir.resolve("plain");
    r = Cli.run("train", "--data", "two-moons", "--out", plain.toString(), "--quiet", "--hidden", "16", "--blocks", "1",
        "--batch", "64", "--steps", "5");
    assertEquals(0, r.code(), r.err());
  }

  private static void fails(Cli.Run r, String... parts) {
    assertEquals(2, r.code(), r.out() + r.err());
    for (String p : parts) {
      assertTrue(r.err().contains(p), "'" + p + "' not in: " + r.err());
    }
  }

  @Test
  void guidedSamplingAndItsErrors() throws Exception {
    Path out = dir.resolve("g.npy");
    Cli.Run r = Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--seeds", "0-7", "--class", "1",
        "--guidance", "3", "--guidance-interval", "0.1,10", "--threshold", "dynamic:0.9");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("classifier-free guidance w = 3 towards class 1 for σ in [0.1, 10]"), r.out());
    assertTrue(r.out().contains("dynamic thresholding"), r.out());
    assertEquals(16, Npy.read(out).data().length);
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--guidance", "3"), "--guidance needs --class");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--guidance", "3", "--class", "2"), "--class 2",
        "0..1");
    fails(Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--guidance", "3", "--class", "0"),
        "unconditional");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--threshold", "median"), "unknown threshold",
        "static, dynamic");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--guidance-rescale", "0.5"), "need --guidance");
    fails(Cli.run("sample", "--model", dir.resolve("lr.json").toString(), "--sampler", "heun", "--out", out.toString(),
        "--guidance", "2"), "trained run");
    fails(Cli.run("train", "--data", "two-moons", "--out", dir.resolve("x").toString(), "--label-dropout", "0.1"),
        "--label-dropout needs --class-conditional");
  }

  @Test
  void inpaintingKeepsTheKnownValuesAndSdeditStartsLate() throws Exception {
    Path mask = dir.resolve("m.npy");
    Npy.write(mask, new double[] {0, 1}, new long[] {2}, false);
    Path known = dir.resolve("k.npy");
    Npy.write(known, new double[] {1.7, 0}, new long[] {2}, false);
    Path out = dir.resolve("i.npy");
    Cli.Run r = Cli.sample(run, out, "--sampler", "dpmpp-2m", "--steps", "8", "--seeds", "0-5", "--inpaint",
        mask.toString(), "--known", known.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("inpainting by replacement: 1 of 2 values known"), r.out());
    double[] x = Npy.read(out).data();
    for (int i = 0; i < 6; i++) {
      assertEquals(1.7, x[2 * i], 1e-9, "known value of sample " + i);
    }
    Path bad = dir.resolve("bad.npy");
    Npy.write(bad, new double[] {0, 1, 1}, new long[] {3}, false);
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--inpaint", bad.toString(), "--known",
        known.toString()), "mask shape [3]", "[2]");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--inpaint", mask.toString()), "--known");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--inpaint", dir.resolve("m.png").toString(),
        "--known", known.toString()), "no such file");

    // DPS towards a measurement of the identity operator.
    r = Cli.sample(run, out, "--sampler", "euler", "--steps", "10", "--seeds", "0-5", "--measurement", known.toString(),
        "--dps-scale", "20");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("DPS (identity) ζ = 20"), r.out());
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--measurement", known.toString(), "--operator",
        "jpeg"), "unknown measurement operator 'jpeg'");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--measurement", known.toString(), "--operator",
        "blur"), "blur needs images [C, H, W], got [2]");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--measurement", known.toString(), "--operator",
        "sr2"), "sr2 needs images");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--measurement", bad.toString()), "shape [3]");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--operator", "sr2"), "--operator applies");
    r = Cli.sample(run, out, "--sampler", "heun", "--steps", "10", "--seeds", "0-5", "--sdedit", known.toString(),
        "--strength", "0.3");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("SDEdit strength 0.3: 3 steps"), r.out());
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--strength", "0.3"), "--strength applies");
    fails(Cli.sample(run, out, "--sampler", "heun", "--steps", "6", "--sdedit", known.toString(), "--strength", "0"),
        "(0, 1]");
  }

  @Test
  void trainClassifierAndGuideAnUnconditionalRun() throws Exception {
    Path clf = dir.resolve("clf");
    Cli.Run r = Cli.run("train-classifier", "--data", "gmm:" + dir.resolve("lr.json"), "--out", clf.toString(),
        "--steps", "40", "--batch", "64", "--hidden", "16", "--blocks", "1");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("classifier of 2 classes"), r.out());
    Path out = dir.resolve("cg.npy");
    r = Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--seeds", "0-3", "--class", "1", "--classifier",
        clf.toString(), "--classifier-scale", "2");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("classifier guidance s = 2 towards class 1"), r.out());
    assertEquals(8, Npy.read(out).data().length);
    fails(Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--classifier", clf.toString()),
        "--classifier needs --class");
    fails(Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--class", "4", "--classifier", clf.toString()),
        "--class 4", "0..1");
    fails(Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--class", "0", "--classifier", run.toString()),
        "not a classifier run");
    fails(Cli.sample(plain, out, "--sampler", "heun", "--steps", "6", "--class", "0"), "unconditional");
    fails(Cli.run("train-classifier", "--data", "two-moons", "--out", dir.resolve("c2").toString()), "has no labels");
  }
}
