package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabCommandTest {
  private static final String MODEL = Path.of("../examples/gmm2d.json").toString();

  @TempDir
  Path dir;

  @Test
  void writesTableJsonAndPlotWithErrorFallingWithNfe() throws Exception {
    Path json = dir.resolve("lab.json");
    Path png = dir.resolve("lab.png");
    Cli.Run r = Cli.run("lab", "--model", MODEL, "--samplers", "euler,heun,lms:order=2", "--nfe", "3,10,30",
        "--grids", "karras,exponential", "--n", "60", "--json", json.toString(), "--plot", png.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("heun (karras)") && r.out().contains("lms:order=2 (exponential)"), r.out());
    JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    assertEquals("rms", o.get("metric").getAsString());
    JsonArray pts = o.getAsJsonArray("points");
    assertEquals(2 * 3 * 3, pts.size());
    for (int s = 0; s < pts.size(); s += 3) {
      JsonObject lo = pts.get(s).getAsJsonObject();
      JsonObject hi = pts.get(s + 2).getAsJsonObject();
      assertTrue(hi.get("nfe").getAsInt() <= 30 && hi.get("nfe").getAsInt() > lo.get("nfe").getAsInt(), hi.toString());
      assertTrue(hi.get("error").getAsDouble() < lo.get("error").getAsDouble(), lo + " vs " + hi);
    }
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(860, img.getWidth());
    // Six series in six distinct colours (plus white, greys and the anti-aliased mixes).
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) {
        colours.add(img.getRGB(x, y) & 0xffffff);
      }
    }
    for (int c : new int[] {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00, 0x56b4e9}) {
      assertTrue(colours.contains(c), "series colour " + Integer.toHexString(c) + " not drawn");
    }
  }

  @Test
  void distributionMetricsAdmitStochasticSamplers() throws Exception {
    Path json = dir.resolve("swd.json");
    Cli.Run r = Cli.run("lab", "--model", MODEL, "--samplers", "euler-ancestral,heun", "--nfe", "2,40", "--metric",
        "swd", "--n", "200", "--json", json.toString());
    assertEquals(0, r.code(), r.err());
    JsonArray pts = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("points");
    assertTrue(pts.get(1).getAsJsonObject().get("error").getAsDouble()
        < pts.get(0).getAsJsonObject().get("error").getAsDouble(), pts.toString());
    assertTrue(r.out().contains("sliced Wasserstein"), r.out());
  }

  @Test
  void badInputsGiveOneLineErrors() {
    Cli.Run r = Cli.run("lab", "--model", MODEL, "--samplers", "euler-ancestral");
    assertTrue(r.code() == 2 && r.err().contains("draws fresh noise"), r.err());
    r = Cli.run("lab", "--model", MODEL, "--samplers", "rk45");
    assertTrue(r.code() == 2 && r.err().contains("adaptive"), r.err());
    r = Cli.run("lab", "--model", MODEL, "--metric", "fid");
    assertTrue(r.code() == 2 && r.err().contains("unknown --metric 'fid'"), r.err());
    r = Cli.run("lab", "--model", MODEL, "--nfe", "0");
    assertTrue(r.code() == 2 && r.err().contains("--nfe budgets must be >= 1"), r.err());
    r = Cli.run("lab", "--model", MODEL, "--samplers", "heun,heun");
    assertTrue(r.code() == 2 && r.err().contains("twice"), r.err());
    r = Cli.run("lab", "--model", MODEL, "--plot", dir.resolve("x.jpg").toString());
    assertEquals(2, r.code(), r.err());
    r = Cli.run("lab", "--model", MODEL, "--samplers", "heun:order=2");
    assertEquals(2, r.code(), r.err());
  }
}
