package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  @TempDir Path dir;

  private Cli.Run train(Path run, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--out", run.toString(), "--quiet", "--hidden", "32",
        "--blocks", "1", "--batch", "64"));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(new String[0]));
  }

  @Test
  void trainsWritesARunAndSamplesIt() throws Exception {
    Path run = dir.resolve("moons");
    Cli.Run r = train(run, "--data", "two-moons", "--steps", "40", "--checkpoint-every", "20", "--log-every", "5");
    assertEquals(0, r.code(), r.err());
    for (String f : List.of("config.json", "weights.safetensors", "ema.safetensors", "optimizer.safetensors",
        "metrics.jsonl", "loss.png", "samples/step-0000020.png", "samples/step-0000040.png")) {
      assertTrue(Files.exists(run.resolve(f)), f + " missing");
    }
    List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertEquals(8, lines.size());
    for (String l : lines) {
      JsonObject o = JsonParser.parseString(l).getAsJsonObject();
      assertTrue(o.has("step") && o.has("loss"), l);
      assertTrue(Double.isFinite(o.get("loss").getAsDouble()), l);
    }
    JsonObject config = JsonParser.parseString(Files.readString(run.resolve("config.json"))).getAsJsonObject();
    assertEquals("edm", config.get("objective").getAsString());
    assertEquals("mlp", config.getAsJsonObject("network").get("type").getAsString());

    Path out = dir.resolve("x.npy");
    Cli.Run s = Cli.sample(run, out, "--sampler", "dpmpp-2m", "--steps", "8", "--seeds", "0-9");
    assertEquals(0, s.code(), s.err());
    NpyArray a = Npy.read(out);
    assertArrayEquals(new long[] {10, 2}, a.shape());
    for (double v : a.data()) {
      assertTrue(Double.isFinite(v));
    }
    // Sample k depends only on seed k, whatever the batch: its noise is its own; the network's float32
    // GEMM kernels differ with the batch size, so outputs agree to round-off, not bit for bit.
    Path out2 = dir.resolve("y.npy");
    assertEquals(0, Cli.sample(run, out2, "--sampler", "dpmpp-2m", "--steps", "8", "--seeds", "0-9", "--batch", "3",
        "--dtype", "float32").code());
    Path out3 = dir.resolve("z.npy");
    assertEquals(0, Cli.sample(run, out3, "--sampler", "dpmpp-2m", "--steps", "8", "--seeds", "0-9", "--batch", "10",
        "--dtype", "float32").code());
    assertArrayEquals(Npy.read(out3).data(), Npy.read(out2).data(), 1e-5);
    assertEquals(0, Cli.sample(run, dir.resolve("p.png"), "--sampler", "euler-ancestral", "--steps", "8").code());
  }

  @Test
  void aTimeBudgetTrainsUntilTheClockEndsAndTheCosineEndsWithIt() throws Exception {
    Path run = dir.resolve("budget");
    Cli.Run r = train(run, "--data", "two-moons", "--time-budget", "3s", "--warmup", "20");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("for 0:00:03"), r.out());
    List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertTrue(lines.size() >= 5, "logged steps: " + lines.size());
    JsonObject first = JsonParser.parseString(lines.get(2)).getAsJsonObject();
    JsonObject last = JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject();
    long steps = last.get("step").getAsLong();
    assertTrue(steps > 30 && steps < TrainCommand.UNBOUNDED_STEPS, "steps " + steps);
    // The cosine's length is the clock: by its last logged step the learning rate is nearly 0.
    assertTrue(last.get("lr").getAsDouble() < 0.2 * first.get("lr").getAsDouble(), lines.get(lines.size() - 1));
    assertTrue(Files.exists(run.resolve("ema.safetensors")));
    assertEquals(0, Cli.sample(run, dir.resolve("b.npy"), "--sampler", "heun", "--steps", "4", "--seeds", "0-3").code());
    // Such a run has no step limit: resuming it needs a budget (or a step count), never an endless run.
    Cli.Run endless = Cli.run("train", "--out", run.toString(), "--quiet", "--resume");
    assertTrue(endless.code() != 0, "resumed without a limit");
    assertTrue(endless.err().contains("--time-budget alone"), endless.err());
    Cli.Run more = Cli.run("train", "--out", run.toString(), "--quiet", "--resume", "--time-budget", "1s");
    assertEquals(0, more.code(), more.err());

    Cli.Run bad = train(dir.resolve("b2"), "--data", "two-moons", "--time-budget", "twenty minutes");
    assertTrue(bad.code() != 0);
    assertTrue(bad.err().contains("--time-budget 'twenty minutes'"), bad.err());
    assertFalse(Files.exists(dir.resolve("b2")), "nothing written for a bad option");
  }

  @Test
  void wallTimesParseInTheUsualSpellings() {
    assertEquals(java.time.Duration.ofMinutes(90), TrainCommand.parseDuration("--t", "1h30m"));
    assertEquals(java.time.Duration.ofMinutes(90), TrainCommand.parseDuration("--t", "1.5h"));
    assertEquals(java.time.Duration.ofSeconds(90), TrainCommand.parseDuration("--t", "90s"));
    assertEquals(java.time.Duration.ofMinutes(20), TrainCommand.parseDuration("--t", "20m"));
    assertEquals(java.time.Duration.ofMinutes(20), TrainCommand.parseDuration("--t", "PT20M"));
    for (String bad : List.of("0s", "20", "m", "20 m", "-5m", "1h 30m", "PT0S", "", "20x")) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> TrainCommand.parseDuration("--t", bad));
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
  }

  @Test
  void resumeContinuesAndRefusesToClobber() throws Exception {
    Path run = dir.resolve("r");
    assertEquals(0, train(run, "--data", "8-gaussians", "--steps", "10", "--log-every", "1").code());
    Cli.Run again = train(run, "--data", "8-gaussians", "--steps", "10");
    assertEquals(2, again.code());
    assertTrue(again.err().contains("--resume"), again.err());
    Cli.Run r = Cli.run("train", "--out", run.toString(), "--quiet", "--resume", "--steps", "16");
    assertEquals(0, r.code(), r.err());
    assertEquals(16, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "the stored --log-every 1 is kept");
    assertTrue(Files.readString(run.resolve("config.json")).contains("\"batch\": 64"), "stored batch kept");
    // Nothing left to do.
    r = Cli.run("train", "--out", run.toString(), "--quiet", "--resume");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("nothing to do") && r.out().contains("step 16 of 16"), r.out());
    // An option that would change the run is refused, naming it.
    r = Cli.run("train", "--out", run.toString(), "--quiet", "--resume", "--steps", "20", "--batch", "512");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--batch") && r.err().contains("would change the run"), r.err());
    r = Cli.run("train", "--out", run.toString(), "--quiet", "--resume", "--objective", "flow", "--hidden", "999");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--objective"), r.err());
  }

  @Test
  void badDataFailsCleanlyWithoutARunDirectory() {
    Path run = dir.resolve("bad");
    Cli.Run r = train(run, "--data", "npy:" + dir.resolve("missing.npy"));
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("d4j: error:") && r.err().contains("missing.npy"), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace");
    assertFalse(Files.exists(run));
    r = train(run, "--data", "two-moons", "--objective", "epsilon");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("epsilon") && r.err().contains("flow"), r.err());
    assertFalse(Files.exists(run));
  }

  @Test
  void dataDrawsTheTrainingGenerator() throws Exception {
    Path out = dir.resolve("pts.npy");
    Cli.Run r = Cli.run("data", "--data", "circles", "--n", "100", "--seed", "3", "--out", out.toString());
    assertEquals(0, r.code(), r.err());
    assertArrayEquals(new long[] {100, 2}, Npy.read(out).shape());
    Path again = dir.resolve("pts2.npy");
    Cli.run("data", "--data", "circles", "--n", "100", "--seed", "3", "--out", again.toString());
    assertArrayEquals(Npy.read(out).data(), Npy.read(again).data(), 0);
  }

  @Test
  void neverWritesIntoAFolderThatIsNotItsOwnAndKeepsUsersFiles() throws Exception {
    Path mine = dir.resolve("thesis");
    Files.createDirectories(mine);
    Files.writeString(mine.resolve("metrics.jsonl"), "my data");
    Cli.Run r = train(mine, "--data", "8-gaussians", "--steps", "4");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not a Diffusion4J run") && r.err().contains(mine.toString()), r.err());
    assertEquals("my data", Files.readString(mine.resolve("metrics.jsonl")));
    // A run killed before its first checkpoint leaves only its step log: nothing to resume, it starts over.
    Path early = dir.resolve("early");
    Files.createDirectories(early);
    Files.writeString(early.resolve("metrics.jsonl"), "{\"step\":10,\"loss\":0.16,\"lr\":9e-05}\n");
    r = train(early, "--data", "8-gaussians", "--steps", "4");
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(early.resolve("config.json")));
    assertFalse(Files.readString(early.resolve("metrics.jsonl")).contains("\"step\":10,"), "the old log is gone");
    // The demo replaces only its own earlier run, never a folder of the user's.
    Path demo = dir.resolve("demo");
    Files.createDirectories(demo.resolve("run").resolve("important"));
    Files.writeString(demo.resolve("run").resolve("important").resolve("thesis.txt"), "years of work");
    r = Cli.run("demo", "--out", demo.toString(), "--train-steps", "5", "--quiet");
    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("years of work", Files.readString(demo.resolve("run").resolve("important").resolve("thesis.txt")));
  }

  @Test
  void aDivergingLossIsOneLineNamingTheCheckpointState() {
    Path run = dir.resolve("boom");
    Cli.Run r = train(run, "--data", "8-gaussians", "--steps", "200", "--lr", "1e6", "--clip", "0", "--warmup", "0");
    assertEquals(3, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
    assertTrue(r.err().startsWith("d4j: error:") && r.err().contains("step")
        && (r.err().contains("no checkpoint was written yet") || r.err().contains("is intact")), r.err());
  }

  @Test
  void optionsWithNoEffectAreRefused() {
    Path run = dir.resolve("noeffect");
    Cli.Run r = train(run, "--data", "two-moons", "--steps", "4", "--dropout", "0.3");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--dropout") && r.err().contains("MLP"), r.err());
    r = train(run, "--data", "two-moons", "--steps", "4", "--resolution", "8");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--resolution"), r.err());
    r = train(run, "--data", "two-moons", "--steps", "0");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--steps must be >= 1, got 0"), r.err());
    assertFalse(Files.exists(run));
  }
}
