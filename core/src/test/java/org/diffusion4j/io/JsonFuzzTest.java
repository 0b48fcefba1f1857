package org.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Processes;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON readers of core (model files, process JSON) on hostile input: non-UTF-8 bytes, trailing
 * garbage, missing keys, wrong types, random truncations and byte mutations. Each read either
 * succeeds or throws one IllegalArgumentException naming the file (and the key), with none of Gson's
 * programmer advice in it.
 */
class JsonFuzzTest {
  @TempDir Path dir;

  private static void assertClean(String msg, String... mentions) {
    for (String bad : new String[] {"setStrictness", "LENIENT", "Input length", "https://", "Exception",
        "com.google"}) {
      assertFalse(msg.contains(bad), "'" + msg + "' contains " + bad);
    }
    for (String m : mentions) {
      assertTrue(msg.contains(m), "'" + msg + "' should mention " + m);
    }
  }

  private IllegalArgumentException readModel(byte[] bytes) throws Exception {
    Path f = dir.resolve("m.json");
    Files.write(f, bytes);
    return assertThrows(IllegalArgumentException.class, () -> GaussianMixture.read(f));
  }

  @Test
  void modelFileFaultsNameTheFileAndTheKey() throws Exception {
    String good = Oracle.mixture().toJson();
    String f = dir.resolve("m.json").toString();
    byte[] latin1 = good.replace("gaussian-mixture", "gaussian-mixtüre").getBytes(StandardCharsets.ISO_8859_1);
    assertClean(readModel(latin1).getMessage(), f, "not UTF-8", "offset");
    assertClean(readModel((good + " }").getBytes(StandardCharsets.UTF_8)).getMessage(), f, "after the JSON value",
        "line 1");
    assertClean(readModel((good + "xyz").getBytes(StandardCharsets.UTF_8)).getMessage(), f);
    assertClean(readModel(good.replace("\"stds\"", "\"sd\"").getBytes(StandardCharsets.UTF_8)).getMessage(),
        f, "\"stds\"", "nothing");
    assertClean(readModel(good.replace("\"weights\":[", "\"weights\":[\"a\",").getBytes(StandardCharsets.UTF_8))
        .getMessage(), f, "weights[0]", "string");
    assertClean(readModel("[1,2]".getBytes(StandardCharsets.UTF_8)).getMessage(), f, "object");
    assertClean(readModel(new byte[0]).getMessage(), f, "empty");
    assertClean(readModel("{\"type\":".getBytes(StandardCharsets.UTF_8)).getMessage(), f, "malformed JSON");
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> GaussianMixture.read(dir.resolve("nope.json")));
    assertClean(missing.getMessage(), "nope.json");
    // A UTF-8 byte-order mark and Python's NaN literal are read (NaN is then refused by name).
    byte[] bom = ("\uFEFF" + good).getBytes(StandardCharsets.UTF_8);
    Files.write(dir.resolve("bom.json"), bom);
    assertEquals(3, GaussianMixture.read(dir.resolve("bom.json")).components());
    assertClean(readModel(good.replaceFirst("\"stds\":\\[[0-9.]+", "\"stds\":[NaN").getBytes(StandardCharsets.UTF_8))
        .getMessage(), f, "stds[0]");
  }

  @Test
  void processJsonFaultsNameTheKey() {
    JsonObject o = com.google.gson.JsonParser.parseString(Processes.toJson(Processes.byId("vp"))).getAsJsonObject();
    o.remove("beta_max");
    assertClean(assertThrows(IllegalArgumentException.class, () -> Processes.fromJson(o.toString())).getMessage(),
        "\"beta_max\"", "nothing");
    JsonObject p = com.google.gson.JsonParser.parseString(Processes.toJson(Processes.byId("edm"))).getAsJsonObject();
    p.addProperty("sigma_min", "small");
    assertClean(assertThrows(IllegalArgumentException.class, () -> Processes.fromJson(p.toString())).getMessage(),
        "\"sigma_min\"", "string");
    JsonObject d = com.google.gson.JsonParser.parseString(Processes.toJson(Processes.byId("ddpm"))).getAsJsonObject();
    d.getAsJsonArray("betas").set(3, new com.google.gson.JsonPrimitive("x"));
    assertClean(assertThrows(IllegalArgumentException.class, () -> Processes.fromJson(d.toString())).getMessage(),
        "betas[3]");
  }

  @Test
  void randomTruncationsAndMutationsReadOrFailNamingTheFile() throws Exception {
    byte[] good = Oracle.mixture().toJson().getBytes(StandardCharsets.UTF_8);
    Path f = dir.resolve("fuzz.json");
    SplittableRandom rng = new SplittableRandom(7);
    int ok = 0;
    int refused = 0;
    for (int t = 0; t < 2000; t++) {
      byte[] b;
      if (t % 2 == 0) {
        b = java.util.Arrays.copyOf(good, rng.nextInt(good.length));
      } else {
        b = good.clone();
        for (int m = 0, k = 1 + rng.nextInt(3); m < k; m++) {
          b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
        }
      }
      Files.write(f, b);
      try {
        GaussianMixture g = GaussianMixture.read(f);
        assertTrue(g.components() >= 1);
        ok++;
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertClean(e.getMessage());
        refused++;
      }
    }
    assertTrue(refused > 1000 && ok > 0, "ok " + ok + ", refused " + refused);
  }
}
