package org.diffusion4j.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;

/** Arrays of samples from {@code .npy}, {@code .npz} (a zip of {@code .npy}) and CSV files. */
public final class NumericFiles {
  private NumericFiles() {}

  static DataSource npy(Path file, DataOptions options) throws IOException {
    requireFile(file);
    return fromArray(Npy.read(file), "npy:" + file, options);
  }

  /** Every array of a {@code .npz} file by name (without {@code .npy}), parsed; errors name the file and the key. */
  public static Map<String, NpyArray> readNpz(Path file) throws IOException {
    Map<String, NpyArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> e : npzEntries(file).entrySet()) {
      out.put(e.getKey(), Npy.parse(e.getValue(), file + ":" + e.getKey()));
    }
    return out;
  }

  private static Map<String, byte[]> npzEntries(Path file) throws IOException {
    requireFile(file);
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (ZipInputStream in = new ZipInputStream(Files.newInputStream(file))) {
      for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
        if (!e.isDirectory()) {
          String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
          entries.put(name, in.readAllBytes());
        }
      }
    } catch (ZipException | java.io.EOFException e) {
      throw new IllegalArgumentException(file + ": not a valid .npz (zip) file (" + e.getMessage() + ")");
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(file + ": not a .npz file or holds no arrays");
    }
    return entries;
  }

  /** {@code key} null: the only array (besides {@code labels}), else {@code arr_0}. */
  static DataSource npz(Path file, String key, DataOptions options) throws IOException {
    Map<String, byte[]> entries = npzEntries(file);
    // An array named "labels" next to the data holds one class label per sample.
    String labelKey = entries.containsKey("labels") ? "labels" : null;
    String k = key;
    if (k == null) {
      List<String> data = new ArrayList<>(entries.keySet());
      data.remove(labelKey);
      k = data.size() == 1 ? data.get(0) : "arr_0";
    }
    byte[] bytes = entries.get(k);
    if (bytes == null) {
      throw new IllegalArgumentException(file + ": no array '" + k + "'; present: " + entries.keySet()
          + " (choose one with npz:FILE:KEY)");
    }
    NpyArray a = Npy.parse(bytes, file + ":" + k);
    int[] labels = null;
    if (labelKey != null && !labelKey.equals(k)) {
      NpyArray l = Npy.parse(entries.get(labelKey), file + ":" + labelKey);
      labels = labels(l.data(), a.shape().length == 0 ? 0 : a.shape()[0], file + ":" + labelKey);
    }
    return fromArray(a, "npz:" + file + ":" + k, options, labels);
  }

  /** A decimal number as CSV files write it (no hex, no Java suffixes such as 1d or 2f). */
  private static final java.util.regex.Pattern NUMBER =
      java.util.regex.Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  /**
   * Reads a CSV (or whitespace/semicolon separated) file of numbers. The first non-comment row is a
   * header if none of its fields is a number; every other row must be all numbers — an empty field
   * ({@code 1,,2}) or a mistyped one ({@code 2x}) is an error naming its line and column, never a
   * silently dropped row.
   */
  static DataSource csv(Path file, DataOptions options) throws IOException {
    requireFile(file);
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IllegalArgumentException(file + ": not UTF-8 text");
    }
    List<double[]> rows = new ArrayList<>();
    int columns = -1;
    boolean first = true;
    int labelColumn = -1;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s*[,;\\t ]\\s*", -1);
      boolean anyNumber = false;
      for (String part : parts) {
        anyNumber |= NUMBER.matcher(part).matches();
      }
      if (first && !anyNumber) {
        // A header: no field is a number; a column named "label" or "class" holds class labels.
        columns = parts.length;
        first = false;
        for (int j = 0; j < parts.length; j++) {
          String h = parts[j].toLowerCase(java.util.Locale.ROOT);
          if (h.equals("label") || h.equals("class")) {
            labelColumn = j;
          }
        }
        continue;
      }
      first = false;
      double[] row = new double[parts.length];
      for (int j = 0; j < parts.length; j++) {
        if (parts[j].isEmpty()) {
          throw new IllegalArgumentException(file + ":" + (i + 1) + ": column " + (j + 1) + " is empty");
        }
        if (!NUMBER.matcher(parts[j]).matches()) {
          throw new IllegalArgumentException(file + ":" + (i + 1) + ": column " + (j + 1) + ": non-numeric value '"
              + parts[j] + "' (a header row may come only first, and has no numeric field)");
        }
        row[j] = Double.parseDouble(parts[j]);
        if (!Double.isFinite(row[j])) {
          throw new IllegalArgumentException(file + ":" + (i + 1) + ": column " + (j + 1) + ": value '" + parts[j]
              + "' overflows a double");
        }
      }
      if (columns == -1) {
        columns = row.length;
      } else if (row.length != columns) {
        throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + row.length + " columns, expected " + columns);
      }
      rows.add(row);
    }
    if (rows.isEmpty()) {
      throw new IllegalArgumentException(file + ": no numeric rows");
    }
    if (labelColumn >= 0 && columns < 2) {
      throw new IllegalArgumentException(file + ": the label column is the only column; there is no data");
    }
    int width = labelColumn >= 0 ? columns - 1 : columns;
    double[] data = new double[rows.size() * width];
    double[] label = labelColumn >= 0 ? new double[rows.size()] : null;
    for (int i = 0; i < rows.size(); i++) {
      double[] row = rows.get(i);
      for (int j = 0, o = 0; j < columns; j++) {
        if (j == labelColumn) {
          label[i] = row[j];
        } else {
          data[i * width + o++] = row[j];
        }
      }
    }
    return fromArray(new NpyArray(new long[] {rows.size(), width}, data, "<f8"), "csv:" + file, options,
        label == null ? null : labels(label, rows.size(), file + " column " + (labelColumn + 1)));
  }

  private static void requireFile(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("no such file: " + file);
    }
  }

  /** Class labels: one non-negative integer per sample. */
  static int[] labels(double[] v, long n, String what) {
    if (v.length != n) {
      throw new IllegalArgumentException(what + ": " + v.length + " labels for " + n + " samples");
    }
    int[] l = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      if (!(v[i] >= 0) || v[i] != Math.rint(v[i]) || v[i] > 1_000_000) {
        throw new IllegalArgumentException(what + ": label " + v[i] + " of sample " + i
            + " is not a class number (an integer 0, 1, …)");
      }
      l[i] = (int) v[i];
    }
    return l;
  }

  /** Rows of {@code a} as samples (a 1-D array is a column of scalars), scaled per the options. */
  static DataSource fromArray(NpyArray a, String description, DataOptions options) {
    return fromArray(a, description, options, null);
  }

  /** {@link #fromArray(NpyArray, String, DataOptions)} with class labels (or null). */
  static DataSource fromArray(NpyArray a, String description, DataOptions options, int[] labels) {
    long[] shape = a.shape();
    if (shape.length == 0 || shape[0] == 0) {
      throw new IllegalArgumentException(description + ": needs an array [n, …] with n >= 1, got shape "
          + Arrays.toString(shape));
    }
    long[] sample = shape.length == 1 ? new long[] {1} : Arrays.copyOfRange(shape, 1, shape.length);
    double[] v = a.data();
    for (int i = 0; i < v.length; i++) {
      if (!Double.isFinite(v[i])) {
        throw new IllegalArgumentException(description + ": non-finite value " + v[i] + " at flat index " + i);
      }
    }
    DataSource.Affine f = affine(v, a.dtype(), options.scaling(), description);
    float[] x = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      x[i] = (float) (f.scale() * v[i] + f.shift());
    }
    String how = f.equals(DataSource.Affine.IDENTITY) ? "as stored"
        : String.format(java.util.Locale.ROOT, "scaled %.6g·x%+.6g", f.scale(), f.shift());
    String labelled = labels == null ? "" : ", labelled (" + (Arrays.stream(labels).max().orElse(-1) + 1) + " classes)";
    return ArraySource.ofFloats(description + " (" + shape[0] + " samples " + Arrays.toString(sample) + ", " + how
        + labelled + ")", sample, (int) shape[0], x, f, labels, options.flip());
  }

  private static DataSource.Affine affine(double[] v, String dtype, DataOptions.Scaling s, String description) {
    switch (s) {
      case NONE:
        return DataSource.Affine.IDENTITY;
      case AUTO:
        return dtype.endsWith("u1") ? new DataSource.Affine(1 / 127.5, -1) : DataSource.Affine.IDENTITY;
      case MINUS_ONE_ONE: {
        double lo = Arrays.stream(v).min().orElseThrow();
        double hi = Arrays.stream(v).max().orElseThrow();
        if (!(hi > lo)) {
          throw new IllegalArgumentException(description + ": constant data (" + lo + ") cannot be scaled to [-1, 1]");
        }
        return new DataSource.Affine(2 / (hi - lo), -(hi + lo) / (hi - lo));
      }
      case STANDARDIZE: {
        double mean = Arrays.stream(v).average().orElseThrow();
        double var = Arrays.stream(v).map(x -> (x - mean) * (x - mean)).average().orElseThrow();
        if (!(var > 0)) {
          throw new IllegalArgumentException(description + ": constant data cannot be standardised");
        }
        double sd = Math.sqrt(var);
        return new DataSource.Affine(1 / sd, -mean / sd);
      }
      default:
        throw new AssertionError(s);
    }
  }
}
