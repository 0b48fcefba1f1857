package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training with the score-matching objectives from the CLI, then the lab on the trained run. */
class ScoreMatchingRunTest {
  @TempDir
  Path dir;

  @Test
  void ismAndSsmRunsTrainAndTheLabMeasuresThemAgainstRk45() throws Exception {
    for (String objective : new String[] {"ism", "ssm"}) {
      Path run = dir.resolve(objective);
      Cli.Run r = Cli.run("train", "--data", "two-moons", "--objective", objective, "--out", run.toString(), "--quiet",
          "--steps", "20", "--hidden", "16", "--blocks", "1", "--batch", "64");
      assertEquals(0, r.code(), r.err());
      String metrics = Files.readString(run.resolve("metrics.jsonl"));
      assertTrue(metrics.contains("div_d"), metrics);
      assertTrue(Files.readString(run.resolve("config.json")).contains("\"" + objective + "\""));
    }
    Path json = dir.resolve("lab.json");
    Cli.Run lab = Cli.run("lab", "--model", dir.resolve("ssm").toString(), "--samplers", "euler,heun", "--nfe", "4,30",
        "--n", "20", "--json", json.toString());
    assertEquals(0, lab.code(), lab.err());
    assertTrue(lab.out().contains("RK45 solve of the same model"), lab.out());
    JsonArray pts = JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("points");
    for (int s = 0; s < 4; s += 2) {
      double coarse = pts.get(s).getAsJsonObject().get("error").getAsDouble();
      double fine = pts.get(s + 1).getAsJsonObject().get("error").getAsDouble();
      assertTrue(fine < coarse, pts.toString());
    }
  }
}
