package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training process killed with {@code kill -9} at a random step, or stopped with Ctrl-C (SIGINT), and
 * then resumed with plain {@code --resume} takes exactly the uninterrupted run's steps.
 */
class InterruptTest {
  @TempDir Path dir;

  private static final String[] RUN = {"--data", "8-gaussians", "--steps", "40", "--batch", "32", "--hidden", "16",
      "--blocks", "1", "--seed", "7", "--checkpoint-every", "3", "--log-every", "1", "--lr", "1e-3"};

  private static Process start(Path out, Path log, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("train", "--out", out.toString()));
    all.addAll(List.of(args));
    return d4j(log, all.toArray(String[]::new));
  }

  /** Starts {@code d4j args} in its own JVM, its output going to {@code log}. */
  private static Process d4j(Path log, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", ReadmeExamplesTest.classPath(), "-Dai.djl.offline=true", "-Dd4j.progressAfterMs=0",
        "-Dai.djl.pytorch.num_threads=1",
        "-Dai.djl.pytorch.num_interop_threads=1", "org.diffusion4j.cli.D4j"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("OMP_NUM_THREADS", "1");
    return pb.start();
  }

  private static List<String> losses(Path run) throws Exception {
    return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
        .map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).collect(Collectors.toList());
  }

  /** Waits until the run has logged at least {@code steps} steps. */
  private static void waitForSteps(Path run, int steps, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && p.isAlive()) {
      Path m = run.resolve("metrics.jsonl");
      if (Files.exists(m) && Files.readAllLines(m).size() >= steps) {
        return;
      }
      Thread.sleep(20);
    }
  }

  private static void kill(Process p, String signal) throws Exception {
    new ProcessBuilder("kill", signal, Long.toString(p.pid())).start().waitFor();
  }

  @Test
  void killNineAtRandomStepsThenPlainResumeEqualsTheUninterruptedRun() throws Exception {
    Path whole = dir.resolve("whole");
    Process p = start(whole, dir.resolve("whole.log"), RUN);
    assertEquals(0, p.waitFor(), Files.readString(dir.resolve("whole.log")));
    List<String> want = losses(whole);
    assertEquals(40, want.size());

    Path run = dir.resolve("killed");
    SplittableRandom rng = new SplittableRandom(System.nanoTime());
    Path last = dir.resolve("first.log");
    p = start(run, last, RUN);
    for (int round = 0; round < 2 && p != null; round++) {
      waitForSteps(run, 6 + 12 * round + rng.nextInt(12), p);
      if (!p.isAlive()) {
        break;
      }
      kill(p, "-9");
      p.waitFor();
      last = dir.resolve("resume" + round + ".log");
      p = start(run, last, "--resume", "--quiet");
    }
    assertEquals(0, p.waitFor(), "resumed run failed: " + Files.readString(last));
    assertEquals(want, losses(run), "the killed-and-resumed run took the uninterrupted run's steps");
  }

  @Test
  void ctrlCWritesACheckpointAndSaysHowToResume() throws Exception {
    // A process started with SIGINT ignored (a background job of a non-interactive shell, nohup) passes that on
    // to its children, and the JVM then leaves SIGINT ignored: there is no Ctrl-C to test.
    Assumptions.assumeFalse(sigintIgnored(), "SIGINT is ignored in this environment (started as a background job)");
    Path run = dir.resolve("sigint");
    Path log = dir.resolve("sigint.log");
    // Long enough that the signal lands mid-run however fast steps are (a 40-step run can finish first).
    String[] longRun = RUN.clone();
    longRun[3] = "400";
    Process p = start(run, log, longRun);
    waitForSteps(run, 10, p);
    kill(p, "-INT");
    int code = p.waitFor();
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(130, code, text);
    assertTrue(text.contains("d4j: interrupted: training stopped at step") && text.contains("continue with: d4j train --out "
        + run + " --resume"), text);
    assertTrue(!text.contains("Exception"), text);
    int stopped = Integer.parseInt(text.replaceAll("(?s).*checkpoint of step (\\d+).*", "$1"));
    assertTrue(stopped >= 10, text);
    assertEquals(stopped, losses(run).size(), "metrics stop at the checkpoint");
    Process r = start(run, dir.resolve("r.log"), "--resume", "--quiet");
    assertEquals(0, r.waitFor(), Files.readString(dir.resolve("r.log")));
    assertEquals(400, losses(run).size());
    assertTrue(new File(run.toFile(), "ema.safetensors").isFile());
  }

  /**
   * SIGTERM (which, unlike SIGINT, background jobs never ignore) stops a long sampling run before its next
   * network evaluation: exit 143, one line saying nothing was written, no output file and no JVM crash log.
   */
  @Test
  void aSignalStopsSamplingCleanlyAndWritesNothing() throws Exception {
    Path out = dir.resolve("x.npy");
    Path log = dir.resolve("sample.log");
    Process p = d4j(log, "sample", "--model", Path.of("../examples/gmm2d.json").toAbsolutePath().toString(),
        "--sampler", "heun", "--steps", "1000000", "--seeds", "0-999", "--no-check", "--out", out.toString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    // Signal once the JVM is sampling (its progress line appears), so the hook is installed.
    while (System.nanoTime() < deadline && p.isAlive() && !Files.readString(log).contains("sampling:")) {
      Thread.sleep(50);
    }
    assertTrue(Files.readString(log).contains("sampling:"), "no progress line: " + Files.readString(log));
    kill(p, "-TERM");
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the stopped run did not exit");
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(143, p.exitValue(), text);
    assertTrue(text.contains("d4j: interrupted: sampling stopped before it finished; nothing was written"), text);
    assertTrue(!text.contains("Exception") && !Files.exists(out), text);
    try (var files = Files.list(dir)) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("hs_err")), "a JVM crash log was written");
    }
  }

  /** Whether this process ignores SIGINT (bit 1 of the SigIgn mask in /proc/self/status, Linux). */
  private static boolean sigintIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseLong(line.substring(7).trim(), 16) & 0x2) != 0;
        }
      }
    } catch (Exception e) {
      return false;
    }
    return false;
  }
}
