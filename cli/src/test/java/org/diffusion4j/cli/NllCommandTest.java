package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NllCommandTest {
  private static final String MODEL = Path.of("../examples/gmm2d.json").toString();

  @TempDir
  Path dir;

  private static JsonObject json(String... args) {
    Cli.Run r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  @Test
  void mixtureNllMatchesTheClosedFormAndWritesPerSampleValues() throws Exception {
    Path per = dir.resolve("nll.npy");
    JsonObject o = json("nll", "--model", MODEL, "--n", "300", "--sigma-start", "1e-4", "--rtol", "1e-7", "--atol", "1e-7",
        "--prior", "exact", "--per-sample", per.toString(), "--json");
    assertEquals(300, o.get("n").getAsInt());
    assertEquals(o.get("exact_nll_nats").getAsDouble(), o.get("nll_nats").getAsDouble(), 2e-5);
    // The samplers' prior N(0, 80² I) differs from p_80 by O(‖μ‖/σ_max) nats.
    JsonObject g = json("nll", "--model", MODEL, "--n", "300", "--sigma-start", "1e-4", "--json");
    assertEquals(o.get("exact_nll_nats").getAsDouble(), g.get("nll_nats").getAsDouble(), 3e-3);
    assertEquals(o.get("nll_nats").getAsDouble() / (2 * Math.log(2)), o.get("bpd").getAsDouble(), 1e-12);
    assertTrue(o.get("stderr").getAsDouble() > 0 && o.get("nfe").getAsDouble() > 10);
    assertEquals("exact", o.get("divergence").getAsString());
    double[] v = Npy.read(per).data();
    assertEquals(300, v.length);
    double mean = java.util.Arrays.stream(v).average().orElseThrow();
    assertEquals(o.get("nll_nats").getAsDouble(), mean, 1e-12);
  }

  @Test
  void trainedRunWithHutchinsonAndTheVdmBound() {
    Path run = dir.resolve("run");
    assertEquals(0, Cli.run("train", "--out", run.toString(), "--quiet", "--hidden", "32", "--data", "two-moons",
        "--steps", "30").code());
    JsonObject exact = json("nll", "--model", run.toString(), "--n", "40", "--rtol", "1e-4", "--atol", "1e-4",
        "--bound", "vdm", "--bound-draws", "4", "--json");
    JsonObject hutch = json("nll", "--model", run.toString(), "--n", "40", "--rtol", "1e-4", "--atol", "1e-4",
        "--hutchinson", "8", "--json");
    assertEquals("exact", exact.get("divergence").getAsString());
    assertEquals("hutchinson-8-rademacher", hutch.get("divergence").getAsString());
    double a = exact.get("nll_nats").getAsDouble();
    double b = hutch.get("nll_nats").getAsDouble();
    assertTrue(Double.isFinite(a) && Math.abs(a - b) < 0.5 + 3 * hutch.get("stderr").getAsDouble(), a + " vs " + b);
    assertTrue(exact.has("bound_nats"));
  }

  @Test
  void aResumedOrExtendedRunGivesTheUninterruptedRunsValuesBitForBit() throws Exception {
    String[] common = {"nll", "--model", MODEL, "--batch", "10", "--hutchinson", "2", "--rtol", "1e-4", "--atol",
        "1e-4", "--json"};
    Path full = dir.resolve("full.npy");
    JsonObject a = json(concat(common, "--n", "40", "--per-sample", full.toString()));
    // A run of 20 points, extended to 40.
    Path part = dir.resolve("part.npy");
    json(concat(common, "--n", "20", "--per-sample", part.toString()));
    assertEquals(20, Npy.read(part).data().length);
    Path side = NllProgress.sidecar(part);
    assertTrue(Files.readString(side).contains("\"done\": 20"), Files.readString(side));
    JsonObject b = json(concat(common, "--n", "40", "--per-sample", part.toString(), "--resume"));
    assertEquals(a.get("nll_nats").getAsDouble(), b.get("nll_nats").getAsDouble(), 0);
    assertEquals(40, b.get("n").getAsInt());
    assertEquals(a.get("nfe").getAsDouble(), b.get("nfe").getAsDouble(), 0);
    assertTrue(java.util.Arrays.equals(Npy.read(full).data(), Npy.read(part).data()));
    // A kill between the two writes: the values file is ahead of the progress file, which wins.
    Files.writeString(side, Files.readString(side).replace("\"done\": 40", "\"done\": 30"));
    JsonObject c = json(concat(common, "--n", "40", "--per-sample", part.toString(), "--resume"));
    assertEquals(a.get("nll_nats").getAsDouble(), c.get("nll_nats").getAsDouble(), 0);
    // Different settings, or nothing to resume, are refused naming what differs.
    Cli.Run r = Cli.run(concat(new String[] {"nll", "--model", MODEL, "--batch", "10", "--hutchinson", "2", "--rtol",
        "1e-3", "--atol", "1e-4"}, "--n", "40", "--per-sample", part.toString(), "--resume"));
    assertTrue(r.code() == 2 && r.err().contains("rtol was 1.0E-4") && r.err().contains("now 0.001"), r.err());
    r = Cli.run(concat(common, "--n", "40", "--per-sample", dir.resolve("none.npy").toString(), "--resume"));
    assertTrue(r.code() == 2 && r.err().contains("none.npy.progress.json"), r.err());
    r = Cli.run(concat(common, "--n", "40", "--resume"));
    assertTrue(r.code() == 2 && r.err().contains("--per-sample"), r.err());
    // A stop (Ctrl-C) keeps the finished points and says how to go on.
    Path stopped = dir.resolve("stopped.npy");
    json(concat(common, "--n", "20", "--per-sample", stopped.toString()));
    org.diffusion4j.lifecycle.StopRequest.request("interrupted");
    try {
      r = Cli.run(concat(common, "--n", "40", "--per-sample", stopped.toString(), "--resume"));
    } finally {
      org.diffusion4j.lifecycle.StopRequest.clear();
    }
    assertEquals(130, r.code(), r.err());
    assertTrue(r.err().contains("stopped at point 20 of 40") && r.err().contains("20 finished points are saved in")
        && r.err().contains("--resume"), r.err());
    assertEquals(20, Npy.read(stopped).data().length);
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void badInputsGiveOneLineErrors() {
    Cli.Run r = Cli.run("nll", "--model", MODEL, "--data", "mnist:" + dir);
    assertEquals(2, r.code());
    r = Cli.run("nll", "--model", MODEL, "--data", "npy:" + dir.resolve("missing.npy"));
    assertEquals(2, r.code(), r.err());
    r = Cli.run("nll", "--model", MODEL, "--bound", "ddpm");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--bound ddpm needs a discrete-time process"), r.err());
    r = Cli.run("nll", "--model", MODEL, "--exact", "--hutchinson", "2");
    assertEquals(2, r.code());
    r = Cli.run("nll", "--model", MODEL, "--prior", "uniform");
    assertTrue(r.code() == 2 && r.err().contains("accepted: gaussian, exact"), r.err());
    r = Cli.run("nll", "--model", MODEL, "--n", "0");
    assertTrue(r.code() == 2 && r.err().contains("--n must be >= 1"), r.err());
    r = Cli.run("nll", "--model", MODEL, "--data", "checkerboard", "--rtol", "0");
    assertTrue(r.code() == 2 && r.err().contains("rtol"), r.err());
  }

  @Test
  void densityMapRecoversTheMixturesLogDensityFromItsScore() throws Exception {
    Path png = dir.resolve("map.png");
    Cli.Run r = Cli.run("nll", "--model", MODEL, "--density-map", png.toString(), "--map-resolution", "24",
        "--map-sigma", "0.2");
    assertEquals(0, r.code(), r.err());
    java.util.regex.Matcher e = java.util.regex.Pattern.compile("RMS error of the recovered .*: (\\S+) nats")
        .matcher(r.out());
    assertTrue(e.find(), r.out());
    assertTrue(Double.parseDouble(e.group(1)) < 1e-5, r.out());
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
    assertTrue(img.getWidth() > 3 * 360, "three panels: recovered, exact, path dependence");
    r = Cli.run("nll", "--model", MODEL, "--density-map", png.toString(), "--map-sigma", "0");
    assertTrue(r.code() == 2 && r.err().contains("--map-sigma"), r.err());
    r = Cli.run("nll", "--model", MODEL, "--density-map", png.toString(), "--map-reference", "1,2,3");
    assertTrue(r.code() == 2 && r.err().contains("2 coordinates"), r.err());
  }
}
