package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.diffusion4j.io.JsonText;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.diffusion4j.io.AtomicFiles;

/**
 * Reads and writes the safetensors format (huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON header
 * {@code {"__metadata__":{...},"name":{"dtype":"F32","shape":[...],"data_offsets":[begin,end]},...}}
 * padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes.
 *
 * <p>Files are byte-identical to the reference writer's: compact JSON, {@code __metadata__} first
 * (its keys sorted here; the reference leaves them in hash order), tensors ordered by descending
 * dtype alignment then by name, data contiguous in that order. Writes are atomic. Reading checks
 * every offset against the file and fails with an {@link IllegalArgumentException} naming the file.
 */
public final class Safetensors {
  /** The reference reader's limit on the header size. */
  static final long MAX_HEADER = 100_000_000L;

  private Safetensors() {}

  /** The content of a safetensors file: tensors in file order and the string metadata. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
    /** The tensor called {@code name}; an error naming the missing key otherwise. */
    public Tensor get(String name) {
      Tensor t = tensors.get(name);
      if (t == null) {
        throw new IllegalArgumentException("no tensor '" + name + "'; present: " + tensors.keySet());
      }
      return t;
    }
  }

  /** Writes host tensors and metadata atomically. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    byte[] header = header(tensors, metadata);
    List<String> order = order(tensors);
    AtomicFiles.write(file, out -> writeTo(out, header, order, tensors));
  }

  /** Writes NDArrays (copied to the host) and metadata atomically. */
  public static void writeArrays(Path file, Map<String, NDArray> arrays, Map<String, String> metadata)
      throws IOException {
    write(file, toTensors(arrays), metadata);
  }

  /** Host copies of NDArrays, keeping the map's order. */
  public static Map<String, Tensor> toTensors(Map<String, NDArray> arrays) {
    Map<String, Tensor> t = new LinkedHashMap<>();
    arrays.forEach((k, v) -> t.put(k, Tensor.of(v)));
    return t;
  }

  /** The complete file as bytes. */
  public static byte[] encode(Map<String, Tensor> tensors, Map<String, String> metadata) {
    byte[] header = header(tensors, metadata);
    List<String> order = order(tensors);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      writeTo(out, header, order, tensors);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static void writeTo(OutputStream out, byte[] header, List<String> order, Map<String, Tensor> tensors)
      throws IOException {
    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    out.write(header);
    for (String name : order) {
      out.write(tensors.get(name).data());
    }
  }

  /** The reference writer's order: descending dtype alignment, then name. */
  private static List<String> order(Map<String, Tensor> tensors) {
    List<String> names = new ArrayList<>(tensors.keySet());
    names.sort(Comparator.<String>comparingInt(n -> -tensors.get(n).dtype().alignmentRank())
        .thenComparing(Comparator.naturalOrder()));
    return names;
  }

  /** The padded JSON header. */
  static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata) {
    if (tensors.containsKey("__metadata__")) {
      throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
    }
    StringBuilder j = new StringBuilder("{");
    if (metadata != null && !metadata.isEmpty()) {
      j.append("\"__metadata__\":{");
      boolean first = true;
      for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
        j.append(first ? "" : ",");
        quote(j, e.getKey()).append(':');
        quote(j, e.getValue());
        first = false;
      }
      j.append('}');
    }
    long offset = 0;
    for (String name : order(tensors)) {
      Tensor t = tensors.get(name);
      j.append(j.length() > 1 ? "," : "");
      quote(j, name).append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
      for (int i = 0; i < t.shape().length; i++) {
        j.append(i > 0 ? "," : "").append(t.shape()[i]);
      }
      long end = offset + t.data().length;
      j.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
      offset = end;
    }
    j.append('}');
    byte[] raw = j.toString().getBytes(StandardCharsets.UTF_8);
    int pad = (8 - raw.length % 8) % 8;
    byte[] padded = Arrays.copyOf(raw, raw.length + pad);
    Arrays.fill(padded, raw.length, padded.length, (byte) ' ');
    return padded;
  }

  /** JSON string escaping as serde_json does it (short escapes, other control characters as \\u00xx). */
  private static StringBuilder quote(StringBuilder j, String s) {
    j.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': j.append("\\\""); break;
        case '\\': j.append("\\\\"); break;
        case '\n': j.append("\\n"); break;
        case '\r': j.append("\\r"); break;
        case '\t': j.append("\\t"); break;
        case '\b': j.append("\\b"); break;
        case '\f': j.append("\\f"); break;
        default:
          if (c < 0x20) {
            j.append(String.format("\\u%04x", (int) c));
          } else {
            j.append(c);
          }
      }
    }
    return j.append('"');
  }

  /** Reads a safetensors file. */
  public static Contents read(Path file) throws IOException {
    return parse(AtomicFiles.readAll(file), file.toString());
  }

  /** Parses the bytes of a safetensors file; {@code source} names it in errors. */
  public static Contents parse(byte[] bytes, String source) {
    if (bytes.length < 8) {
      throw new IllegalArgumentException(source + ": not a safetensors file (only " + bytes.length + " bytes)");
    }
    long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (n < 2 || n > MAX_HEADER) {
      throw new IllegalArgumentException(source + ": not a safetensors file (header length " + n + ")");
    }
    if (8 + n > bytes.length) {
      throw new IllegalArgumentException(source + ": truncated safetensors file: header of " + n
          + " bytes but the file has " + bytes.length + " bytes");
    }
    JsonElement parsed = JsonText.parse(Arrays.copyOfRange(bytes, 8, 8 + (int) n), source + " (safetensors header)");
    if (!parsed.isJsonObject()) {
      throw new IllegalArgumentException(source + ": corrupt safetensors header (expected a JSON object, got "
          + JsonText.kind(parsed) + ")");
    }
    JsonObject header = parsed.getAsJsonObject();
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      if (e.getKey().equals("__metadata__")) {
        if (!e.getValue().isJsonObject()) {
          throw new IllegalArgumentException(source + ": __metadata__ must be an object of strings");
        }
        for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
          if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException(source + ": __metadata__ value of '" + m.getKey() + "' is not a string");
          }
          metadata.put(m.getKey(), m.getValue().getAsString());
        }
        continue;
      }
      entries.add(entry(source, e.getKey(), e.getValue()));
    }
    entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long dataLen = bytes.length - 8 - n;
    long expect = 0;
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry e : entries) {
      if (e.begin != expect) {
        throw new IllegalArgumentException(source + ": tensor '" + e.name + "' starts at byte " + e.begin
            + ", expected " + expect + " (data must be contiguous)");
      }
      long need;
      try {
        need = Math.multiplyExact(Tensor.elements(e.shape), (long) e.dtype.size());
      } catch (ArithmeticException overflow) {
        throw new IllegalArgumentException(source + ": tensor '" + e.name + "' has shape "
            + Arrays.toString(e.shape) + ", too large to hold");
      }
      if (e.end - e.begin != need) {
        throw new IllegalArgumentException(source + ": tensor '" + e.name + "' of shape " + Arrays.toString(e.shape)
            + " and dtype " + e.dtype + " needs " + need + " bytes, its offsets span " + (e.end - e.begin));
      }
      if (e.end > dataLen) {
        throw new IllegalArgumentException(source + ": truncated safetensors file: tensor '" + e.name
            + "' ends at data byte " + e.end + " but only " + dataLen + " data bytes are present");
      }
      int from = (int) (8 + n + e.begin);
      tensors.put(e.name, new Tensor(e.dtype, e.shape, Arrays.copyOfRange(bytes, from, from + (int) need)));
      expect = e.end;
    }
    if (expect != dataLen) {
      throw new IllegalArgumentException(source + ": " + (dataLen - expect)
          + " bytes after the last tensor (file corrupt or not safetensors)");
    }
    return new Contents(tensors, metadata);
  }

  private record Entry(String name, Tensor.Dtype dtype, long[] shape, long begin, long end) {}

  private static Entry entry(String source, String name, JsonElement v) {
    String where = source + ": tensor '" + name + "': ";
    try {
      JsonObject o = v.getAsJsonObject();
      String dt = o.get("dtype").getAsString();
      Tensor.Dtype dtype;
      try {
        dtype = Tensor.Dtype.valueOf(dt);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "unsupported dtype " + dt
            + "; accepted: " + Arrays.toString(Tensor.Dtype.values()));
      }
      JsonArray s = o.get("shape").getAsJsonArray();
      long[] shape = new long[s.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = s.get(i).getAsLong();
        if (shape[i] < 0) {
          throw new IllegalArgumentException(where + "negative dimension in shape " + s);
        }
      }
      JsonArray off = o.get("data_offsets").getAsJsonArray();
      if (off.size() != 2) {
        throw new IllegalArgumentException(where + "data_offsets must be [begin, end], got " + off);
      }
      long begin = off.get(0).getAsLong();
      long end = off.get(1).getAsLong();
      if (begin < 0 || end < begin) {
        throw new IllegalArgumentException(where + "bad data_offsets " + off);
      }
      return new Entry(name, dtype, shape, begin, end);
    } catch (IllegalStateException | NullPointerException | UnsupportedOperationException
        | NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(where + "malformed entry " + v);
    }
  }
}
