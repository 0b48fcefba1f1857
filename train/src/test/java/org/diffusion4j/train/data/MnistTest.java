package org.diffusion4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MnistTest {
  /** The real MNIST files: {@code shared/data/mnist} beside the checkout (CI's layout), found upwards. */
  private static final Path REAL = locate();

  private static Path locate() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path c = p.resolve("shared").resolve("data").resolve("mnist");
      if (Files.isDirectory(c)) {
        return c;
      }
    }
    return Path.of("../../shared/data/mnist");
  }
  private static DataSource real;

  @TempDir Path dir;

  private static synchronized DataSource real() {
    Assumptions.assumeTrue(Files.isDirectory(REAL), "real MNIST not present at " + REAL);
    if (real == null) {
      real = DataSources.parse("mnist:" + REAL + ":test"); // t10k: 10k images, read once
    }
    return real;
  }

  private static byte[] idx(int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    return b.put(data).array();
  }

  private static byte[] gzip(byte[] raw) throws Exception {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(bo)) {
      o.write(raw);
    }
    return bo.toByteArray();
  }

  @Test
  void realMnistLoadsScaledWithLabels() {
    DataSource s = real();
    assertArrayEquals(new long[] {1, 28, 28}, s.sampleShape());
    assertEquals(10_000, s.size());
    assertTrue(s.hasLabels());
    assertEquals(10, s.classes());
    try (NDManager m = NDManager.newBaseManager()) {
      try (DataSource.Batch b = s.batchWithLabels(m, 16, new SplittableRandom(0))) {
        assertArrayEquals(new long[] {16, 1, 28, 28}, b.x().getShape().getShape());
        float[] v = b.x().toFloatArray();
        double min = 9;
        double max = -9;
        for (float f : v) {
          min = Math.min(min, f);
          max = Math.max(max, f);
        }
        assertEquals(-1, min, 0);          // background pixels are 0 → −1
        assertEquals(1, max, 1e-6);        // every digit has saturated strokes (255 → 1)
        for (long l : b.labels().toLongArray()) {
          assertTrue(l >= 0 && l <= 9);
        }
      }
    }
  }

  @Test
  void plainAndGzipSyntheticFilesReadAlike() throws Exception {
    byte[] pixels = new byte[2 * 2 * 3];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 20);
    }
    Path plain = Files.createDirectory(dir.resolve("plain"));
    Path gz = Files.createDirectory(dir.resolve("gz"));
    Files.write(plain.resolve("train-images-idx3-ubyte"), idx(new int[] {2, 2, 3}, pixels));
    Files.write(plain.resolve("train-labels-idx1-ubyte"), idx(new int[] {2}, new byte[] {7, 3}));
    Files.write(gz.resolve("train-images-idx3-ubyte.gz"), gzip(idx(new int[] {2, 2, 3}, pixels)));
    DataSource a = DataSources.parse("mnist:" + plain);
    DataSource b = DataSources.parse("mnist:" + gz);
    assertArrayEquals(new long[] {1, 2, 3}, a.sampleShape());
    assertTrue(a.hasLabels());
    assertFalse(b.hasLabels());
    DataSource.HostBatch x = a.sample(5, new SplittableRandom(9));
    assertArrayEquals(x.x(), b.sample(5, new SplittableRandom(9)).x(), 0f);
    for (int i = 0; i < 5; i++) {
      int k = x.labels()[i] == 7 ? 0 : 1;
      assertEquals((k * 6 + 5) * 20 / 127.5 - 1, x.x()[i * 6 + 5], 1e-6);
    }
  }

  @Test
  void badFilesNameTheFileAndTheProblem() throws Exception {
    byte[] good = idx(new int[] {4, 28, 28}, new byte[4 * 784]);
    Path d = Files.createDirectory(dir.resolve("bad"));
    Path f = d.resolve("train-images-idx3-ubyte");
    Files.write(f, Arrays.copyOf(good, good.length - 100));
    assertMessage("mnist:" + d, f.toString(), "truncated");
    Files.write(f, gzip(good));
    assertMessage("mnist:" + d, f.toString(), "magic");
    Files.delete(f);
    Path g = d.resolve("train-images-idx3-ubyte.gz");
    byte[] z = gzip(good);
    Files.write(g, Arrays.copyOf(z, z.length / 2));
    assertMessage("mnist:" + d, g.toString(), "truncated");
    Files.write(g, gzip(good));
    Files.write(d.resolve("train-labels-idx1-ubyte"), idx(new int[] {3}, new byte[3]));
    assertMessage("mnist:" + d, "train-labels-idx1-ubyte", "3 labels for 4 images");
    assertMessage("mnist:" + dir.resolve("nowhere"), "nowhere", "no such directory");
    assertMessage("mnist:" + dir, dir.toString(), "train-images-idx3-ubyte");
  }

  private static void assertMessage(String spec, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSources.parse(spec));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
    }
  }
}
