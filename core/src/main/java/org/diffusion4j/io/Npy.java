package org.diffusion4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1–3): C-order arrays of float16/32/64,
 * signed/unsigned integers and bool, either byte order. Values are read into doubles. Errors name
 * the file and what is wrong with it.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final Pattern STRUCTURED = Pattern.compile("'descr'\\s*:\\s*\\[");
  private static final Pattern TYPE = Pattern.compile("([<>|=])([a-zA-Z]\\d{1,2})");
  private static final java.util.Set<String> SUPPORTED =
      java.util.Set.of("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1");

  /** The most elements one array may hold (a Java array's limit). */
  public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Npy() {}

  /** Reads a {@code .npy} file. */
  public static NpyArray read(Path file) throws IOException {
    return parse(AtomicFiles.readAll(file), file.toString());
  }

  /**
   * Parses the bytes of a {@code .npy} file; {@code source} names it in errors. Anything malformed —
   * a bad magic or version, a header that overruns the file, an unknown, object or structured dtype,
   * a dimension that is not a non-negative integer, a shape too large to hold, truncated data — is one
   * {@link IllegalArgumentException} that names {@code source} and the fault.
   */
  public static NpyArray parse(byte[] bytes, String source) {
    try {
      return parseChecked(bytes, source);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      // A last net: no crafted file may surface as a buffer or index exception.
      throw new IllegalArgumentException(source + ": malformed .npy file (" + e + ")", e);
    }
  }

  private static NpyArray parseChecked(byte[] bytes, String source) {
    if (bytes.length < 10) {
      throw new IllegalArgumentException(source + ": not a .npy file (only " + bytes.length + " bytes)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw new IllegalArgumentException(source + ": not a .npy file (bad magic bytes)");
      }
    }
    int major = bytes[6] & 0xff;
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw new IllegalArgumentException(source + ": truncated .npy header");
      }
      headerLen = b.getInt(8) & 0xffffffffL;
      start = 12;
    } else {
      throw new IllegalArgumentException(source + ": unsupported .npy version " + major + " (accepted: 1, 2, 3)");
    }
    if (start + headerLen > bytes.length) {
      throw new IllegalArgumentException(source + ": truncated .npy header (declares " + headerLen
          + " bytes, file has " + (bytes.length - start) + ")");
    }
    String header = new String(bytes, start, (int) headerLen,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    if (STRUCTURED.matcher(header).find()) {
      throw new IllegalArgumentException(source + ": structured .npy dtypes are not supported; save a plain "
          + "numeric array");
    }
    Matcher d = DESCR.matcher(header);
    Matcher f = FORTRAN.matcher(header);
    Matcher s = SHAPE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IllegalArgumentException(source + ": malformed .npy header (needs 'descr', 'fortran_order' "
          + "and 'shape'): " + abbreviate(header.trim()));
    }
    String descr = d.group(1);
    Matcher t = TYPE.matcher(descr);
    if (!t.matches() || !SUPPORTED.contains(t.group(2))) {
      String what = descr.contains("O") ? "object arrays (dtype '" + descr + "') are not supported"
          : "unsupported .npy dtype '" + descr + "'";
      throw new IllegalArgumentException(source + ": " + what
          + "; accepted: float16/32/64, int8..64, uint8..64, bool");
    }
    char order = t.group(1).charAt(0);
    String kind = t.group(2);
    int width = Integer.parseInt(kind.substring(1));
    List<Long> dims = new ArrayList<>();
    String[] parts = s.group(1).split(",", -1);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i].trim();
      if (part.isEmpty() && (i == parts.length - 1 || parts.length == 1)) {
        continue; // "(3,)" and "()"
      }
      if (!part.matches("[0-9]{1,18}")) {
        throw new IllegalArgumentException(source + ": .npy shape (" + s.group(1).trim() + ") has dimension '"
            + part + "', which is not a non-negative integer");
      }
      dims.add(Long.parseLong(part));
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    long n = 1;
    for (long v : shape) {
      if (v != 0 && n > MAX_ELEMENTS / v) {
        throw new IllegalArgumentException(source + ": .npy shape " + dims + " is too large (more than "
            + MAX_ELEMENTS + " elements)");
      }
      n *= v;
    }
    if (n > MAX_ELEMENTS) {
      throw new IllegalArgumentException(source + ": .npy shape " + dims + " is too large (" + n + " elements; at most "
          + MAX_ELEMENTS + ")");
    }
    if (f.group(1).equals("True") && dims.stream().filter(v -> v > 1).count() > 1) {
      throw new IllegalArgumentException(source + ": Fortran-order arrays are not supported; save with C order "
          + "(numpy.ascontiguousarray)");
    }
    long offset = start + headerLen;
    long need = n * width;
    if (offset + need > bytes.length) {
      throw new IllegalArgumentException(source + ": truncated .npy data: shape " + dims + " of " + descr
          + " needs " + need + " bytes, file has " + (bytes.length - offset));
    }
    ByteBuffer data = ByteBuffer.wrap(bytes, (int) offset, bytes.length - (int) offset)
        .order(order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[(int) n];
    for (int i = 0; i < n; i++) {
      out[i] = readOne(data, kind, source, descr);
    }
    return new NpyArray(shape, out, descr);
  }

  private static String abbreviate(String h) {
    StringBuilder sb = new StringBuilder();
    for (char c : h.toCharArray()) {
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
      if (sb.length() >= 100) {
        return sb + "…";
      }
    }
    return sb.toString();
  }

  private static double readOne(ByteBuffer b, String kind, String source, String descr) {
    switch (kind) {
      case "f8": return b.getDouble();
      case "f4": return b.getFloat();
      case "f2": return halfToDouble(b.getShort());
      case "i8": return b.getLong();
      case "i4": return b.getInt();
      case "i2": return b.getShort();
      case "i1": return b.get();
      case "u8": return unsignedLong(b.getLong());
      case "u4": return b.getInt() & 0xffffffffL;
      case "u2": return b.getShort() & 0xffff;
      case "u1": return b.get() & 0xff;
      case "b1": return b.get() != 0 ? 1 : 0;
      default:
        throw new IllegalArgumentException(source + ": unsupported .npy dtype '" + descr
            + "'; accepted: float16/32/64, int8..64, uint8..64, bool");
    }
  }

  /** IEEE 754 binary16 to double (Java 17 has no Float.float16ToFloat). */
  public static double halfToDouble(short h) {
    int sign = (h >> 15) & 1;
    int exp = (h >> 10) & 0x1f;
    int mant = h & 0x3ff;
    double v;
    if (exp == 0) {
      v = mant * Math.pow(2, -24);
    } else if (exp == 31) {
      v = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else {
      v = (1 + mant / 1024.0) * Math.pow(2, exp - 15);
    }
    return sign == 1 ? -v : v;
  }

  private static double unsignedLong(long v) {
    return v >= 0 ? v : (double) (v >>> 1) * 2 + (v & 1);
  }

  /** Encodes values as a version-1 {@code .npy} ({@code <f4} or {@code <f8}). */
  public static byte[] encode(double[] data, long[] shape, boolean float32) {
    StringBuilder sh = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sh.append(shape[i]).append(shape.length == 1 || i < shape.length - 1 ? "," : "");
      if (i < shape.length - 1) {
        sh.append(' ');
      }
    }
    sh.append(')');
    String header = String.format(Locale.ROOT, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
        float32 ? "<f4" : "<f8", sh);
    int total = 10 + header.length() + 1;
    int pad = (64 - total % 64) % 64;
    StringBuilder h = new StringBuilder(header);
    h.append(" ".repeat(pad)).append('\n');
    byte[] hb = h.toString().getBytes(StandardCharsets.ISO_8859_1);
    int width = float32 ? 4 : 8;
    ByteBuffer b = ByteBuffer.allocate(10 + hb.length + data.length * width).order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) hb.length).put(hb);
    for (double v : data) {
      if (float32) {
        b.putFloat((float) v);
      } else {
        b.putDouble(v);
      }
    }
    return b.array();
  }

  /** Writes a {@code .npy} atomically. */
  public static void write(Path file, double[] data, long[] shape, boolean float32) throws IOException {
    new NpyArray(shape, data, float32 ? "<f4" : "<f8");
    AtomicFiles.write(file, encode(data, shape, float32));
  }
}
