package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.diffusion4j.train.loop.Trainer;
import org.junit.jupiter.api.Test;

/**
 * The MNIST budget benchmark's PyTorch twin ({@code bench/src/main/python/mnist_budget.py}) builds the
 * network {@code bin/bench mnist} trains: the same parameter count, to the parameter. Runs where Debian's
 * {@code /usr/bin/python3} has torch; skipped otherwise.
 */
class TwinUNetParameterCountTest {
  private static final Path SCRIPT = Path.of("..", "bench", "src", "main", "python", "mnist_budget.py");
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @Test
  void theTwinHasOurParameterCount() throws Exception {
    assumeTrue(Files.isRegularFile(SCRIPT), "no " + SCRIPT.toAbsolutePath());
    assumeTrue(Files.isExecutable(PYTHON), "no " + PYTHON);
    // The README's MNIST U-Net (bin/bench mnist's default) with a second block per level and attention at
    // 14 as well, so that each flag is seen to reach the twin; then the class-conditional one (10 digits + ∅).
    assertEquals(ours(new UNetConfig(1, 28, 16, new int[] {1, 2, 2}, 2, new int[] {7, 14}, 0.0, 0)),
        twin("--base", "16", "--mult", "1,2,2", "--blocks", "2", "--attention", "7,14"), "parameters: ours vs the twin's");
    long conditional = ours(new UNetConfig(1, 28, 16, new int[] {1, 2, 2}, 1, new int[] {7}, 0.0, 10));
    assertEquals(ours(new UNetConfig(1, 28, 16, new int[] {1, 2, 2}, 1, new int[] {7}, 0.0, 0)) + 11 * 16, conditional,
        "the class table: 11 rows of base width");
    assertEquals(conditional, twin("--base", "16", "--classes", "10"), "class-conditional parameters: ours vs the twin's");
  }

  private static long twin(String... flags) throws Exception {
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(PYTHON.toString(), SCRIPT.toString(),
        "--params-only"));
    cmd.addAll(java.util.List.of(flags));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assumeTrue(p.waitFor(300, TimeUnit.SECONDS), "the twin did not answer within 300 s");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    String last = out.substring(out.lastIndexOf('\n') + 1);
    JsonObject j = JsonParser.parseString(last).getAsJsonObject();
    assumeTrue(!j.has("available"), "no torch for " + PYTHON + ": " + out);
    assertEquals(0, p.exitValue(), out);
    return j.get("params").getAsLong();
  }

  private static long ours(UNetConfig c) {
    try (NDManager m = NDManager.newBaseManager()) {
      Block net = c.build();
      net.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28), new Shape(1));
      return Trainer.parameters(net).values().stream().mapToLong(a -> a.getShape().size()).sum();
    }
  }
}
