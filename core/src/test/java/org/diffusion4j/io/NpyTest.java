package org.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path dir;

  @Test
  void roundTripsFloat64AndFloat32() throws Exception {
    double[] v = {1.5, -2.25, Math.PI, 1e-300, 0, 7};
    Path p = dir.resolve("a.npy");
    Npy.write(p, v, new long[] {3, 2}, false);
    NpyArray a = Npy.read(p);
    assertArrayEquals(new long[] {3, 2}, a.shape());
    assertArrayEquals(v, a.data(), 0);
    assertEquals("<f8", a.dtype());
    Npy.write(p, v, new long[] {6}, true);
    NpyArray b = Npy.read(p);
    assertArrayEquals(new long[] {6}, b.shape());
    for (int i = 0; i < v.length; i++) {
      assertEquals((float) v[i], b.data()[i], 0);
    }
  }

  @Test
  void halfPrecisionDecodes() {
    assertEquals(1.0, Npy.halfToDouble((short) 0x3c00), 0);
    assertEquals(-2.0, Npy.halfToDouble((short) 0xc000), 0);
    assertEquals(65504.0, Npy.halfToDouble((short) 0x7bff), 0);
    assertEquals(Math.pow(2, -24), Npy.halfToDouble((short) 0x0001), 0);
  }

  @Test
  void headerIsPaddedTo64BytesAsNumpyDoes() {
    byte[] b = Npy.encode(new double[] {1, 2}, new long[] {2}, true);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertEquals(0, (10 + headerLen) % 64);
    assertEquals('\n', b[10 + headerLen - 1]);
  }

  @Test
  void truncatedAndForeignFilesGiveClearErrors() throws Exception {
    byte[] good = Npy.encode(new double[] {1, 2, 3, 4}, new long[] {2, 2}, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Npy.parse(Arrays.copyOf(good, good.length - 3), "x.npy"));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Npy.parse("hello world, not numpy".getBytes(), "y.npy"));
    assertTrue(e.getMessage().startsWith("y.npy"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Npy.read(dir.resolve("missing.npy")));
    assertTrue(e.getMessage().contains("missing.npy"), e.getMessage());
  }

  @Test
  void failedAtomicWriteLeavesTargetIntact() throws Exception {
    Path p = dir.resolve("keep.bin");
    AtomicFiles.write(p, new byte[] {1, 2, 3});
    assertThrows(java.io.IOException.class, () -> AtomicFiles.write(p, out -> {
      out.write(9);
      throw new java.io.IOException("disk full");
    }));
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(p));
    try (var s = Files.list(dir)) {
      assertFalse(s.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temporary file left behind");
    }
  }
}
