package org.diffusion4j.io;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads JSON documents with errors a person can act on: the source (file) is named, bytes that are
 * not UTF-8 give their offset, text after the value is refused with its line and column, and Gson's
 * advice to the programmer ("setStrictness(LENIENT)", troubleshooting links) is left out. NaN and
 * Infinity literals are accepted as numbers (Python's json module writes them).
 */
public final class JsonText {
  private static final TypeAdapter<JsonElement> ELEMENT = new Gson().getAdapter(JsonElement.class);

  private JsonText() {}

  /** Reads and parses a whole file; a missing file is bad input, named in the message. */
  public static JsonElement read(Path file) throws IOException {
    return parse(AtomicFiles.readAll(file), file.toString());
  }

  /** Reads a file that must hold one JSON object. */
  public static JsonObject readObject(Path file) throws IOException {
    return object(read(file), file.toString());
  }

  /** Parses UTF-8 bytes; {@code source} names them in errors. */
  public static JsonElement parse(byte[] bytes, String source) {
    return parse(decodeUtf8(bytes, source), source);
  }

  /** Parses text holding exactly one JSON value; {@code source} names it in errors. */
  public static JsonElement parse(String text, String source) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    if (text.isBlank()) {
      throw new IllegalArgumentException(source + ": empty, expected a JSON document");
    }
    JsonReader r = new JsonReader(new StringReader(text));
    r.setStrictness(Strictness.LENIENT);
    try {
      JsonElement e = ELEMENT.read(r);
      String after = where(r);
      boolean end;
      try {
        end = r.peek() == JsonToken.END_DOCUMENT;
      } catch (IOException | JsonParseException junk) {
        end = false;
      }
      if (!end) {
        throw new IllegalArgumentException(source + ": unexpected text after the JSON value (which ends" + after
            + ")");
      }
      return e;
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw new IllegalArgumentException(source + ": malformed JSON: " + clean(e.getMessage()), e);
    }
  }

  /** {@code e} as an object, or an error naming {@code source}. */
  public static JsonObject object(JsonElement e, String source) {
    if (e == null || !e.isJsonObject()) {
      throw new IllegalArgumentException(source + ": expected a JSON object, got " + kind(e));
    }
    return e.getAsJsonObject();
  }

  /** A short description of what a JSON value is, for messages: "a string", "nothing", … */
  public static String kind(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return e == null ? "nothing" : "null";
    }
    if (e.isJsonObject()) {
      return "an object";
    }
    if (e.isJsonArray()) {
      return "an array";
    }
    if (e.getAsJsonPrimitive().isNumber()) {
      return "the number " + e;
    }
    if (e.getAsJsonPrimitive().isBoolean()) {
      return e.toString();
    }
    String s = e.toString();
    return "the string " + (s.length() > 40 ? s.substring(0, 40) + "…\"" : s);
  }

  /** Strict UTF-8 decoding; a bad byte is reported with its offset. */
  public static String decodeUtf8(byte[] bytes, String source) {
    CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length + 1);
    CoderResult res = dec.decode(in, out, true);
    if (!res.isError()) {
      res = dec.flush(out);
    }
    if (res.isError()) {
      throw new IllegalArgumentException(source + ": not UTF-8 text (invalid byte 0x"
          + String.format("%02x", bytes[in.position()] & 0xff) + " at offset " + in.position() + ")");
    }
    out.flip();
    return out.toString();
  }

  private static String where(JsonReader r) {
    String s = r.toString(); // "JsonReader at line L column C path P"
    int i = s.indexOf(" at line ");
    return i < 0 ? "" : s.substring(i).replaceAll(" path .*$", "");
  }

  /** Gson's message without the programmer's advice and links. */
  static String clean(String msg) {
    if (msg == null) {
      return "unreadable";
    }
    String m = msg;
    int see = m.indexOf("\nSee ");
    if (see >= 0) {
      m = m.substring(0, see);
    }
    m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON");
    m = m.replaceAll("com\\.google\\.gson\\.[A-Za-z.]+: ", "");
    return m.replaceAll(" path \\$[^ ]*", "").trim();
  }
}
