package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
  @TempDir Path dir;

  private static byte[] le64(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  @Test
  void headerLayoutIsByteExact() {
    // The case of safetensors' own Rust test `test_serialization`: "attn.0", F32, shape [1,2,3],
    // values 0..5; its header is exactly 64 bytes, so no padding.
    byte[] got = Safetensors.encode(Map.of("attn.0", Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), Map.of());
    String json = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    assertEquals(64, json.length());
    ByteArrayOutputStream want = new ByteArrayOutputStream();
    want.writeBytes(le64(64));
    want.writeBytes(json.getBytes(StandardCharsets.US_ASCII));
    want.writeBytes(new byte[] {
        0, 0, 0, 0, 0, 0, (byte) 0x80, 0x3f, 0, 0, 0, 0x40,             // 0f, 1f, 2f
        0, 0, 0x40, 0x40, 0, 0, (byte) 0x80, 0x40, 0, 0, (byte) 0xa0, 0x40}); // 3f, 4f, 5f
    assertArrayEquals(want.toByteArray(), got);
  }

  @Test
  void metadataFirstTensorsByDescendingAlignmentThenNameAndPaddedToEight() {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("b", Tensor.of(new float[] {1.5f}));
    t.put("a", Tensor.of(new double[] {2}, 1));
    t.put("c", Tensor.of(new long[] {-3}, 1));
    t.put("aa", Tensor.of(new float[] {4}, 1));
    byte[] got = Safetensors.encode(t, Map.of("z", "1", "framework", "pt"));
    String json = "{\"__metadata__\":{\"framework\":\"pt\",\"z\":\"1\"},"
        + "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        + "\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]},"
        + "\"aa\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[20,24]}}";
    int pad = (8 - json.length() % 8) % 8;
    long n = got[0] & 0xff | (got[1] & 0xff) << 8;
    assertEquals(json.length() + pad, n);
    assertEquals(json + " ".repeat(pad), new String(got, 8, (int) n, StandardCharsets.UTF_8));
    assertEquals(8 + n + 24, got.length);
  }

  @Test
  void roundTripsNdArraysAndMetadata() throws Exception {
    Path f = dir.resolve("w.safetensors");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.randomNormal(new ai.djl.ndarray.types.Shape(3, 4));
      NDArray d = m.create(new double[] {Math.PI, -1e-300}, new ai.djl.ndarray.types.Shape(2));
      NDArray i = m.create(new long[] {Long.MIN_VALUE, 7});
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      arrays.put("net.layer0.weight", w);
      arrays.put("sigma \"quoted\"\n", d);
      arrays.put("ids", i);
      Safetensors.writeArrays(f, arrays, Map.of("step", "12", "note", "é ✓"));
      Safetensors.Contents c = Safetensors.read(f);
      assertEquals(Map.of("step", "12", "note", "é ✓"), c.metadata());
      assertEquals(arrays.keySet(), c.tensors().keySet());
      try (NDManager m2 = NDManager.newBaseManager()) {
        NDArray w2 = c.get("net.layer0.weight").toNDArray(m2);
        assertEquals(DataType.FLOAT32, w2.getDataType());
        assertArrayEquals(w.toFloatArray(), w2.toFloatArray(), 0f);
        assertArrayEquals(w.getShape().getShape(), w2.getShape().getShape());
        assertArrayEquals(d.toDoubleArray(), c.get("sigma \"quoted\"\n").toDoubleArray(), 0);
        assertArrayEquals(i.toLongArray(), c.get("ids").toLongArray());
      }
    }
  }

  @Test
  void truncatedAndCorruptFilesGiveClearErrors() throws Exception {
    Path f = dir.resolve("t.safetensors");
    Safetensors.write(f, Map.of("x", Tensor.of(new float[] {1, 2, 3, 4}, 4)), Map.of());
    byte[] good = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(good, good.length - 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(f));
    assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    Files.write(f, Arrays.copyOf(good, 20));
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(f));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    Files.write(f, "PK\3\4 not a safetensors file at all".getBytes(StandardCharsets.US_ASCII));
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(f));
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    byte[] extra = Arrays.copyOf(good, good.length + 4);
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.parse(extra, "x.safetensors"));
    assertTrue(e.getMessage().contains("after the last tensor"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(dir.resolve("none.safetensors")));
    assertTrue(e.getMessage().contains("none.safetensors"), e.getMessage());
  }

  @Test
  void readsHalfAndBfloat16WrittenByHand() {
    // F16 0x3c00 = 1.0, 0xc000 = -2.0; BF16 0x3f80 = 1.0, 0x4049 = 3.140625.
    String json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}";
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.writeBytes(le64(json.length()));
    f.writeBytes(json.getBytes(StandardCharsets.US_ASCII));
    f.writeBytes(new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0, (byte) 0x80, 0x3f, 0x49, 0x40});
    Safetensors.Contents c = Safetensors.parse(f.toByteArray(), "hand.safetensors");
    assertArrayEquals(new double[] {1, -2}, c.get("h").toDoubleArray(), 0);
    assertArrayEquals(new float[] {1, 3.140625f}, c.get("b").toFloatArray(), 0f);
  }

  /** A file whose header is {@code header} (raw bytes) followed by {@code data} bytes. */
  private static byte[] withHeader(byte[] header, int data) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    f.writeBytes(le64(header.length));
    f.writeBytes(header);
    f.writeBytes(new byte[data]);
    return f.toByteArray();
  }

  @Test
  void hostileHeadersNameTheFileWithoutGsonAdvice() {
    String ok = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    byte[][] bad = {
      ok.replace("x", "\u00e9").getBytes(StandardCharsets.ISO_8859_1), // not UTF-8
      (ok + " }").getBytes(StandardCharsets.UTF_8), // trailing garbage
      ok.replace("[2]", "[\"abc\"]").getBytes(StandardCharsets.UTF_8),
      ok.replace("[2]", "[4611686018427387904, 4]").getBytes(StandardCharsets.UTF_8),
      ok.replace("\"dtype\":\"F32\",", "").getBytes(StandardCharsets.UTF_8),
      "[1, 2]".getBytes(StandardCharsets.UTF_8),
      "{\"x\": 5}".getBytes(StandardCharsets.UTF_8),
    };
    for (byte[] h : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Safetensors.parse(withHeader(h, 8), "w.safetensors"), new String(h, StandardCharsets.ISO_8859_1));
      String m = e.getMessage();
      assertTrue(m.startsWith("w.safetensors"), m);
      assertTrue(!m.contains("LENIENT") && !m.contains("Input length") && !m.contains("https://"), m);
    }
    java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
    byte[] good = ok.getBytes(StandardCharsets.UTF_8);
    for (int t = 0; t < 500; t++) {
      byte[] h = good.clone();
      h[rng.nextInt(h.length)] = (byte) rng.nextInt(256);
      try {
        Safetensors.parse(withHeader(h, 8), "w.safetensors");
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage().startsWith("w.safetensors"), e.getMessage());
      }
    }
  }
}
