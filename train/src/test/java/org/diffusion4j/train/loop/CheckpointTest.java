package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir Path dir;

  private static Checkpoint sample(long step, float shift) {
    String config =
        "{\"model\":{\"net\":\"mlp\",\"width\":64},\"process\":\"edm\",\"objective\":\"edm\",\"data\":{\"scale\":1.0}}";
    return new Checkpoint(config,
        Map.of("net.w", Tensor.of(new float[] {1 + shift, 2, 3, 4}, 2, 2), "net.b", Tensor.of(new float[] {shift}, 1)),
        Map.of("net.w", Tensor.of(new float[] {0.5f, 1, 1.5f, 2 + shift}, 2, 2), "net.b", Tensor.of(new float[] {0}, 1)),
        Map.of("adam.m.net.w", Tensor.of(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 2, 2), "adam.t", Tensor.of(new long[] {step}, 1)),
        step, Map.of("rng", "1234567", "ema_updates", Long.toString(step)));
  }

  /** Every file in the directory with its bytes, to show nothing changed. */
  private static Map<String, String> snapshot(Path d) throws IOException {
    Map<String, String> s = new TreeMap<>();
    try (Stream<Path> files = Files.list(d)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        s.put(f.getFileName().toString(), Arrays.toString(Files.readAllBytes(f)));
      }
    }
    return s;
  }

  @Test
  void partsGetTheUmaskModeAndKeepAnExistingMode() throws Exception {
    Path probe = Files.createFile(dir.resolveSibling(dir.getFileName() + "-probe"));
    String umaskMode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(probe));
    Files.delete(probe);
    org.junit.jupiter.api.Assumptions.assumeFalse(umaskMode.equals("rw-------"), "umask 077");
    sample(10, 0).save(dir);
    for (String part : new String[] {Checkpoint.CONFIG, Checkpoint.WEIGHTS, Checkpoint.EMA, Checkpoint.OPTIMIZER}) {
      assertEquals(umaskMode, java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(dir.resolve(part))), part);
    }
    Files.setPosixFilePermissions(dir.resolve(Checkpoint.WEIGHTS),
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-r--"));
    sample(20, 0).save(dir);
    assertEquals("rw-rw-r--", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(dir.resolve(Checkpoint.WEIGHTS))));
  }

  @Test
  void saveThenLoadGivesIdenticalTensors() throws Exception {
    Checkpoint c = sample(300, 0.25f);
    c.save(dir);
    Checkpoint l = Checkpoint.load(dir);
    assertEquals(c.config(), l.config());
    assertEquals(c.weights(), l.weights());
    assertEquals(c.ema(), l.ema());
    assertEquals(c.optimizer(), l.optimizer());
    assertEquals(300, l.step());
    assertEquals(c.state(), l.state());
    assertEquals(c.ema(), Checkpoint.readWeights(dir, true));
    assertArrayEquals(new float[] {1.25f, 2, 3, 4}, l.weights().get("net.w").toFloatArray(), 0f);
  }

  @Test
  void truncatedWeightsGiveClearErrorAndLeaveTheDirectoryAsItWas() throws Exception {
    sample(10, 0).save(dir);
    Path w = dir.resolve(Checkpoint.WEIGHTS);
    byte[] b = Files.readAllBytes(w);
    Files.write(w, Arrays.copyOf(b, b.length - 5));
    Map<String, String> before = snapshot(dir);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    assertTrue(e.getMessage().contains(Checkpoint.WEIGHTS) && e.getMessage().contains("truncated"), e.getMessage());
    assertEquals(before, snapshot(dir));
  }

  @Test
  void missingOrForeignPartsAreNamed() throws Exception {
    sample(10, 0).save(dir);
    Files.delete(dir.resolve(Checkpoint.EMA));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    assertTrue(e.getMessage().contains(Checkpoint.EMA) && e.getMessage().contains("missing"), e.getMessage());
    Files.copy(dir.resolve(Checkpoint.WEIGHTS), dir.resolve(Checkpoint.EMA));
    e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    assertTrue(e.getMessage().contains(Checkpoint.EMA), e.getMessage());
    Files.writeString(dir.resolve(Checkpoint.CONFIG), "{not json");
    e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    assertTrue(e.getMessage().contains(Checkpoint.CONFIG), e.getMessage());
  }

  @Test
  void failureWhileSavingKeepsThePreviousCheckpoint() throws Exception {
    sample(10, 0).save(dir);
    Map<String, String> before = snapshot(dir);
    assertThrows(java.io.UncheckedIOException.class, () -> sample(20, 1).save(dir, part -> {
      if (part.equals(Checkpoint.OPTIMIZER)) {
        throw new java.io.UncheckedIOException(new IOException("disk full"));
      }
    }));
    assertEquals(before, snapshot(dir), "previous checkpoint changed or temporary files left");
    assertEquals(10, Checkpoint.load(dir).step());
  }

  @Test
  void partsFromDifferentStepsAreRejected() throws Exception {
    Path other = dir.resolve("other");
    sample(10, 0).save(dir);
    sample(20, 1).save(other);
    Files.copy(other.resolve(Checkpoint.EMA), dir.resolve(Checkpoint.EMA), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    assertTrue(e.getMessage().contains("step 10") && e.getMessage().contains("step 20"), e.getMessage());
  }

  @Test
  void aSaveKilledBetweenItsRenamesIsCompletedFromItsStagedParts() throws Exception {
    // kill -9 after weights.safetensors was renamed into place, before ema and optimizer were: their step-20
    // versions are left staged as temporary siblings (beside a half-written stage of some other save).
    Path other = dir.resolve("other");
    sample(10, 0).save(dir);
    sample(20, 1).save(other);
    Files.copy(other.resolve(Checkpoint.WEIGHTS), dir.resolve(Checkpoint.WEIGHTS),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.copy(other.resolve(Checkpoint.EMA), dir.resolve("." + Checkpoint.EMA + ".k3j2.tmp"));
    Files.copy(other.resolve(Checkpoint.OPTIMIZER), dir.resolve("." + Checkpoint.OPTIMIZER + ".x9.tmp"));
    Files.write(dir.resolve("." + Checkpoint.OPTIMIZER + ".a1.tmp"), new byte[] {1, 2, 3});
    Checkpoint c = Checkpoint.load(dir);
    assertEquals(20, c.step());
    Checkpoint want = Checkpoint.load(other);
    for (String part : new String[] {Checkpoint.WEIGHTS, Checkpoint.EMA, Checkpoint.OPTIMIZER}) {
      assertArrayEquals(Files.readAllBytes(other.resolve(part)), Files.readAllBytes(dir.resolve(part)), part);
    }
    assertEquals(want.state(), c.state());
  }
}
