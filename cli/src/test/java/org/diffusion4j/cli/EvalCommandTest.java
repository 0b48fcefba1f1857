package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalCommandTest {
  private static final String MODEL = Path.of("../examples/gmm2d.json").toString();

  @TempDir
  Path dir;

  @Test
  void qualityImprovesWithStepsOnAMixture() throws Exception {
    Path out = dir.resolve("eval.json");
    Cli.Run r = Cli.run("eval", "--model", MODEL, "--n", "400", "--sampler", "heun", "--steps", "3,18",
        "--metrics", "swd,w2,mmd,energy,kl,fd,kid,pr", "--out", out.toString(), "--json", "--plot",
        dir.resolve("q.png").toString());
    assertEquals(0, r.code(), r.err());
    JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
    assertEquals(o, JsonParser.parseString(Files.readString(out)).getAsJsonObject());
    assertEquals(860, javax.imageio.ImageIO.read(dir.resolve("q.png").toFile()).getWidth());
    assertEquals("raw", o.get("feature_space").getAsString());
    JsonArray rows = o.getAsJsonArray("results");
    JsonObject coarse = rows.get(0).getAsJsonObject();
    JsonObject fine = rows.get(1).getAsJsonObject();
    assertEquals(18, fine.get("steps").getAsInt());
    assertTrue(fine.get("nfe").getAsInt() > coarse.get("nfe").getAsInt());
    for (String k : new String[] {"swd", "w2", "mmd", "energy", "kl", "fd", "kid"}) {
      assertTrue(fine.get(k).getAsDouble() < coarse.get(k).getAsDouble(), k + ": " + fine + " vs " + coarse);
    }
    for (String k : new String[] {"precision", "density", "coverage"}) {
      assertTrue(fine.get(k).getAsDouble() > coarse.get(k).getAsDouble() + 0.3, k + ": " + fine + " vs " + coarse);
    }
    assertTrue(fine.get("kl").getAsDouble() < 0.2 && fine.get("fd").getAsDouble() < 0.05, fine.toString());
    Cli.Run table = Cli.run("eval", "--model", MODEL, "--n", "100", "--steps", "5");
    assertEquals(0, table.code(), table.err());
    assertTrue(table.out().contains("swd") && table.out().contains("raw coordinates"), table.out());
  }

  @Test
  void badInputsGiveOneLineErrors() {
    Cli.Run r = Cli.run("eval", "--model", MODEL, "--metrics", "fid");
    assertTrue(r.code() == 2 && r.err().contains("unknown metric 'fid'"), r.err());
    r = Cli.run("eval", "--model", MODEL, "--metrics", "classes");
    assertTrue(r.code() == 2 && r.err().contains("needs MNIST images"), r.err());
    r = Cli.run("eval", "--model", MODEL, "--n", "5");
    assertTrue(r.code() == 2 && r.err().contains("--n must be >= 10"), r.err());
    r = Cli.run("eval", "--model", MODEL, "--steps", "0");
    assertEquals(2, r.code());
    r = Cli.run("eval", "--model", MODEL, "--data", "mnist:" + dir);
    assertEquals(2, r.code());
  }
}
