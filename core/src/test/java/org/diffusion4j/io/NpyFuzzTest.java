package org.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Crafted and random {@code .npy} files: every read either returns the right array or throws one
 * {@link IllegalArgumentException} naming the file — never NegativeArraySize, BufferUnderflow,
 * NumberFormat or OutOfMemory.
 */
class NpyFuzzTest {
  private static final String SRC = "fuzz/x.npy";
  private static final String[] DTYPES = {"<f8", ">f8", "<f4", ">f4", "<f2", "<i8", "<i4", ">i2", "|i1", "<u8",
      "<u4", "<u2", "|u1", "|b1"};

  /** A well-formed file: header with the given fields, then {@code dataBytes} bytes. */
  static byte[] file(int version, String descr, String fortran, String shape, int dataBytes, SplittableRandom rng) {
    String dict = "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': (" + shape + "), }";
    int pre = version == 1 ? 10 : 12;
    int pad = (64 - (pre + dict.length() + 1) % 64) % 64;
    byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(pre + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
    if (version == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    b.put(h);
    byte[] data = new byte[dataBytes];
    rng.nextBytes(data);
    b.put(data);
    return b.array();
  }

  private static void assertRefused(byte[] bytes, String... mentions) {
    try {
      Npy.parse(bytes, SRC);
      fail("accepted a bad file; expected a message with " + String.join(", ", mentions));
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().startsWith(SRC + ": "), e.getMessage());
      for (String m : mentions) {
        assertTrue(e.getMessage().contains(m), e.getMessage() + " should mention " + m);
      }
    }
  }

  @Test
  void craftedHeadersAreRefusedClearly() {
    SplittableRandom r = new SplittableRandom(1);
    assertRefused(file(1, "<f8", "False", "-3, 2", 48, r), "'-3'", "non-negative integer");
    assertRefused(file(1, "<f8", "False", "abc, 2", 48, r), "'abc'");
    assertRefused(file(1, "<f8", "False", "99999999999, 99999999999", 48, r), "too large");
    assertRefused(file(1, "<f8", "False", "4294967296, 1", 48, r), "too large");
    assertRefused(file(1, "<f8", "False", "99999999999999999999", 48, r), "non-negative integer");
    assertRefused(file(1, "|O", "False", "3,", 24, r), "object arrays");
    assertRefused(file(1, "<c16", "False", "3,", 48, r), "unsupported .npy dtype '<c16'");
    assertRefused(file(1, "<U5", "False", "3,", 60, r), "unsupported .npy dtype");
    assertRefused(file(1, "<f8", "True", "3, 2", 48, r), "Fortran");
    assertRefused(file(1, "<f8", "False", "3, 2", 47, r), "truncated .npy data", "needs 48 bytes");
    assertRefused(file(1, "<f8", "False", "3,,2", 48, r), "dimension ''");
    assertRefused(file(4, "<f8", "False", "3,", 24, r), "version 4");
    byte[] v2 = file(2, "<f8", "False", "3,", 24, r);
    ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN).putInt(8, -1); // header length 4 GiB
    assertRefused(v2, "truncated .npy header");
    byte[] structured = file(1, "<f8", "False", "3,", 24, r);
    String h = new String(structured, StandardCharsets.ISO_8859_1).replace("'descr': '<f8'", "'descr': [('a',");
    assertRefused(h.getBytes(StandardCharsets.ISO_8859_1), "structured");
    // Fortran order is harmless for 1-D data and read as is.
    assertEquals(3, Npy.parse(file(1, "<f8", "True", "3,", 24, r), SRC).size());
  }

  @Test
  void randomFilesTruncationsAndMutationsReadCorrectlyOrFailNamingTheFile() {
    SplittableRandom rng = new SplittableRandom(42);
    int reads = 0;
    int refused = 0;
    for (int trial = 0; trial < 3000; trial++) {
      String dt = DTYPES[rng.nextInt(DTYPES.length)];
      int width = Integer.parseInt(dt.substring(2));
      int rank = rng.nextInt(4);
      long[] shape = new long[rank];
      StringBuilder sh = new StringBuilder();
      long n = 1;
      for (int i = 0; i < rank; i++) {
        shape[i] = rng.nextInt(5);
        n *= shape[i];
        sh.append(shape[i]).append(rank == 1 || i < rank - 1 ? "," : "");
      }
      byte[] good = file(1 + rng.nextInt(3), dt, "False", sh.toString(), (int) n * width, rng);
      NpyArray ok = Npy.parse(good, SRC);
      assertArrayEquals(shape, ok.shape());
      byte[] bad;
      switch (trial % 3) {
        case 0: // truncate anywhere
          bad = java.util.Arrays.copyOf(good, rng.nextInt(good.length));
          break;
        case 1: { // mutate 1–4 header bytes
          bad = good.clone();
          int hdrEnd = good.length - (int) n * width;
          for (int m = 0, k = 1 + rng.nextInt(4); m < k; m++) {
            bad[rng.nextInt(hdrEnd)] = (byte) rng.nextInt(256);
          }
          break;
        }
        default: { // replace the shape by random text
          String junk = new String[] {"-1", "1e3", "0x10", " ", "9223372036854775807", "3.5", "(", "'a'"}[rng.nextInt(8)];
          bad = file(1, dt, "False", junk + "," + sh, (int) n * width, rng);
        }
      }
      try {
        NpyArray a = Npy.parse(bad, SRC);
        long m = 1;
        for (long d : a.shape()) {
          m *= d;
        }
        assertEquals(m, a.data().length);
        reads++;
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage().startsWith(SRC + ": "), e.getMessage());
        refused++;
      }
    }
    assertTrue(refused > 1000 && reads > 50, "reads " + reads + ", refused " + refused);
  }
}
