package org.diffusion4j.train.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.NumericFiles;
import org.diffusion4j.train.loop.Trainer;

/**
 * Preference data: n pairs (preferred x_w, rejected x_l) of samples of one shape, held on the host in the
 * model's stored data scale, with optional class labels (the condition of each pair).
 *
 * <p>As training batches ({@link #batches}) a draw of n pairs is one array of 2n rows, the preferred
 * samples first, then the rejected ones in the same order; the labels repeat likewise.
 *
 * @param preferred n·d values
 * @param rejected n·d values
 * @param sampleShape one sample's shape
 * @param labels one label per pair, or null
 */
public record PreferencePairs(double[] preferred, double[] rejected, long[] sampleShape, long[] labels) {

  public PreferencePairs {
    int d = perSample(sampleShape);
    if (preferred.length != rejected.length || preferred.length == 0 || preferred.length % d != 0) {
      throw new IllegalArgumentException("preference pairs: preferred (" + preferred.length + " values) and rejected ("
          + rejected.length + " values) must hold the same number (>= 1) of samples of shape "
          + Arrays.toString(sampleShape));
    }
    if (labels != null && labels.length != preferred.length / d) {
      throw new IllegalArgumentException("preference pairs: " + labels.length + " labels for " + preferred.length / d
          + " pairs");
    }
    for (double[] a : new double[][] {preferred, rejected}) {
      for (int i = 0; i < a.length; i++) {
        if (!Double.isFinite(a[i])) {
          throw new IllegalArgumentException("preference pairs: non-finite value at flat index " + i);
        }
      }
    }
  }

  static int perSample(long[] shape) {
    long d = 1;
    for (long v : shape) {
      d *= v;
    }
    return Math.toIntExact(d);
  }

  /** Number of pairs. */
  public int size() {
    return preferred.length / perSample(sampleShape);
  }

  /** Values per sample. */
  public int perSample() {
    return perSample(sampleShape);
  }

  /**
   * Pairs judged by a scorer: consecutive samples (2i, 2i+1) of {@code samples} form pair i, the one with
   * the higher score preferred (ties: the first).
   */
  public static PreferencePairs judge(double[] samples, long[] sampleShape, Scorer scorer) {
    int d = perSample(sampleShape);
    int n = samples.length / d / 2;
    if (n < 1) {
      throw new IllegalArgumentException("judging pairs needs at least two samples");
    }
    double[] s = scorer.score(Arrays.copyOf(samples, 2 * n * d), d);
    double[] w = new double[n * d];
    double[] l = new double[n * d];
    for (int i = 0; i < n; i++) {
      boolean firstWins = s[2 * i] >= s[2 * i + 1];
      System.arraycopy(samples, (2 * i + (firstWins ? 0 : 1)) * d, w, i * d, d);
      System.arraycopy(samples, (2 * i + (firstWins ? 1 : 0)) * d, l, i * d, d);
    }
    return new PreferencePairs(w, l, sampleShape, null);
  }

  /**
   * Reads an {@code .npz} with arrays {@code preferred} and {@code rejected} of shape [n, …] in the raw data
   * scale, and optionally {@code labels} [n]; {@code scale}, {@code shift} map raw values to the model's
   * stored scale ({@code stored = scale·raw + shift}).
   */
  public static PreferencePairs read(Path file, double scale, double shift) throws IOException {
    Map<String, NpyArray> a = NumericFiles.readNpz(file);
    NpyArray w = a.get("preferred");
    NpyArray l = a.get("rejected");
    if (w == null || l == null) {
      throw new IllegalArgumentException(file + ": needs arrays 'preferred' and 'rejected'; present: " + a.keySet());
    }
    if (!Arrays.equals(w.shape(), l.shape()) || w.shape().length < 2) {
      throw new IllegalArgumentException(file + ": 'preferred' " + w.shapeText() + " and 'rejected' " + l.shapeText()
          + " must have the same shape [n, …]");
    }
    long[] shape = Arrays.copyOfRange(w.shape(), 1, w.shape().length);
    double[] pw = w.data().clone();
    double[] pl = l.data().clone();
    for (int i = 0; i < pw.length; i++) {
      pw[i] = scale * pw[i] + shift;
      pl[i] = scale * pl[i] + shift;
    }
    long[] labels = null;
    NpyArray lab = a.get("labels");
    if (lab != null) {
      labels = new long[lab.data().length];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = Math.round(lab.data()[i]);
      }
    }
    return new PreferencePairs(pw, pl, shape, labels);
  }

  /**
   * Writes the pairs in the stored scale as one {@code .npy} [2, n, …] (preferred, then rejected; float32) and,
   * if there are labels, {@code NAME-labels.npy} [n] next to it; read back by {@link #readStored}.
   */
  public void write(Path file) throws IOException {
    java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
    long[] full = new long[sampleShape.length + 2];
    full[0] = 2;
    full[1] = size();
    System.arraycopy(sampleShape, 0, full, 2, sampleShape.length);
    double[] both = Arrays.copyOf(preferred, 2 * preferred.length);
    System.arraycopy(rejected, 0, both, preferred.length, rejected.length);
    org.diffusion4j.io.Npy.write(file, both, full, true);
    if (labels != null) {
      double[] l = new double[labels.length];
      for (int i = 0; i < l.length; i++) {
        l[i] = labels[i];
      }
      org.diffusion4j.io.Npy.write(labelsFile(file), l, new long[] {labels.length}, false);
    }
  }

  private static Path labelsFile(Path file) {
    String name = file.getFileName().toString();
    return file.resolveSibling(name.substring(0, name.length() - 4) + "-labels.npy");
  }

  /** Pairs written by {@link #write} (already in the stored scale). */
  public static PreferencePairs readStored(Path file) throws IOException {
    NpyArray a = org.diffusion4j.io.Npy.read(file);
    long[] s = a.shape();
    if (s.length < 3 || s[0] != 2) {
      throw new IllegalArgumentException(file + ": stored pairs must have shape [2, n, …], got " + a.shapeText());
    }
    int half = a.data().length / 2;
    long[] labels = null;
    if (java.nio.file.Files.isRegularFile(labelsFile(file))) {
      double[] l = org.diffusion4j.io.Npy.read(labelsFile(file)).data();
      labels = new long[l.length];
      for (int i = 0; i < l.length; i++) {
        labels[i] = Math.round(l[i]);
      }
    }
    return new PreferencePairs(Arrays.copyOf(a.data(), half), Arrays.copyOfRange(a.data(), half, 2 * half),
        Arrays.copyOfRange(s, 2, s.length), labels);
  }

  /**
   * Reads an image-folder layout: a CSV whose rows are {@code preferred,rejected[,label]} — image paths
   * (PNG/JPEG) relative to the CSV's folder, a header row allowed — with every image of {@code sampleShape}
   * [C, H, W] (C = 1 takes the mean of the RGB channels). Pixels 0…255 map to the model's stored scale
   * by {@code stored = scale·raw + shift} (the model run's data scaling).
   */
  public static PreferencePairs readCsv(Path csv, long[] sampleShape, double scale, double shift) throws IOException {
    if (sampleShape.length != 3) {
      throw new IllegalArgumentException(csv + ": image pairs need an image model; its samples have shape "
          + Arrays.toString(sampleShape));
    }
    java.util.List<String> lines = java.nio.file.Files.readAllLines(csv);
    int d = perSample(sampleShape);
    java.util.List<double[]> w = new java.util.ArrayList<>();
    java.util.List<double[]> l = new java.util.ArrayList<>();
    java.util.List<Long> labels = new java.util.ArrayList<>();
    Path base = csv.toAbsolutePath().getParent();
    for (int row = 0; row < lines.size(); row++) {
      String line = lines.get(row).trim();
      if (line.isEmpty() || (row == 0 && line.toLowerCase(java.util.Locale.ROOT).startsWith("preferred"))) {
        continue;
      }
      String[] f = line.split(",");
      if (f.length != 2 && f.length != 3) {
        throw new IllegalArgumentException(csv + " line " + (row + 1) + ": expected preferred,rejected[,label], got '"
            + line + "'");
      }
      w.add(image(base.resolve(f[0].trim()), sampleShape, scale, shift, csv, row));
      l.add(image(base.resolve(f[1].trim()), sampleShape, scale, shift, csv, row));
      if (f.length == 3) {
        try {
          labels.add(Long.parseLong(f[2].trim()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(csv + " line " + (row + 1) + ": label '" + f[2].trim() + "' is not an integer");
        }
      }
    }
    if (w.isEmpty()) {
      throw new IllegalArgumentException(csv + ": no pairs");
    }
    if (!labels.isEmpty() && labels.size() != w.size()) {
      throw new IllegalArgumentException(csv + ": give a label on every row or on none");
    }
    double[] pw = new double[w.size() * d];
    double[] pl = new double[w.size() * d];
    for (int i = 0; i < w.size(); i++) {
      System.arraycopy(w.get(i), 0, pw, i * d, d);
      System.arraycopy(l.get(i), 0, pl, i * d, d);
    }
    return new PreferencePairs(pw, pl, sampleShape,
        labels.isEmpty() ? null : labels.stream().mapToLong(Long::longValue).toArray());
  }

  private static double[] image(Path file, long[] shape, double scale, double shift, Path csv, int row)
      throws IOException {
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new IllegalArgumentException(csv + " line " + (row + 1) + ": no such image " + file);
    }
    java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(file.toFile());
    if (img == null) {
      throw new IllegalArgumentException(csv + " line " + (row + 1) + ": " + file + " is not a readable image");
    }
    int c = (int) shape[0];
    int h = (int) shape[1];
    int wd = (int) shape[2];
    if (img.getWidth() != wd || img.getHeight() != h) {
      throw new IllegalArgumentException(csv + " line " + (row + 1) + ": " + file + " is " + img.getWidth() + "×"
          + img.getHeight() + " but the model's samples are " + wd + "×" + h);
    }
    double[] x = new double[c * h * wd];
    for (int y = 0; y < h; y++) {
      for (int z = 0; z < wd; z++) {
        int rgb = img.getRGB(z, y);
        int[] ch = {rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff};
        for (int k = 0; k < c; k++) {
          double raw = c == 1 ? (ch[0] + ch[1] + ch[2]) / 3.0 : ch[k];
          x[k * h * wd + y * wd + z] = scale * raw + shift;
        }
      }
    }
    return x;
  }

  /** The first {@code n} pairs and the rest, for held-out accuracy. */
  public PreferencePairs[] split(int n) {
    int d = perSample();
    if (n < 1 || n >= size()) {
      throw new IllegalArgumentException("cannot split " + size() + " pairs at " + n);
    }
    return new PreferencePairs[] {
        new PreferencePairs(Arrays.copyOf(preferred, n * d), Arrays.copyOf(rejected, n * d), sampleShape,
            labels == null ? null : Arrays.copyOf(labels, n)),
        new PreferencePairs(Arrays.copyOfRange(preferred, n * d, preferred.length),
            Arrays.copyOfRange(rejected, n * d, rejected.length), sampleShape,
            labels == null ? null : Arrays.copyOfRange(labels, n, labels.length))};
  }

  /** Training batches: n pairs drawn uniformly with replacement as one [2n, …] array (preferred first). */
  public Trainer.Batches batches() {
    int d = perSample();
    int count = size();
    return (m, n, rng) -> {
      float[] x = new float[2 * n * d];
      long[] lab = labels == null ? null : new long[2 * n];
      for (int i = 0; i < n; i++) {
        int k = rng.nextInt(count);
        for (int j = 0; j < d; j++) {
          x[i * d + j] = (float) preferred[k * d + j];
          x[(n + i) * d + j] = (float) rejected[k * d + j];
        }
        if (lab != null) {
          lab[i] = labels[k];
          lab[n + i] = labels[k];
        }
      }
      long[] shape = new long[sampleShape.length + 1];
      shape[0] = 2L * n;
      System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
      NDArray xa = m.create(x, new Shape(shape));
      return new DataSource.Batch(xa, lab == null ? null : m.create(lab));
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreferencePairs p && Arrays.equals(preferred, p.preferred) && Arrays.equals(rejected, p.rejected)
        && Arrays.equals(sampleShape, p.sampleShape) && Arrays.equals(labels, p.labels);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(preferred) * 31 + Arrays.hashCode(rejected);
  }

  @Override
  public String toString() {
    return "PreferencePairs[" + size() + " pairs of " + Arrays.toString(sampleShape) + "]";
  }

}
