package org.diffusion4j.train.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * MNIST in LeCun's IDX format ({@code train-images-idx3-ubyte} and {@code train-labels-idx1-ubyte},
 * plain or {@code .gz}): images [1, 28, 28] mapped to [−1, 1] by x/127.5 − 1, labels 0–9 when the
 * labels file is present. IDX: magic {@code 0x00 0x00 type ndim}, ndim big-endian int32 sizes, data.
 */
final class Mnist {
  private Mnist() {}

  static DataSource load(Path dir, String split, DataOptions options) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("mnist: no such directory: " + dir);
    }
    Path images = find(dir, split + "-images-idx3-ubyte", split + "-images.idx3-ubyte");
    if (images == null) {
      throw new IllegalArgumentException(dir + ": no " + split + "-images-idx3-ubyte[.gz] in this directory");
    }
    Idx img = readIdx(images, 3);
    Path labelsFile = find(dir, split + "-labels-idx1-ubyte", split + "-labels.idx1-ubyte");
    int[] labels = null;
    if (labelsFile != null) {
      Idx lab = readIdx(labelsFile, 1);
      if (lab.dims[0] != img.dims[0]) {
        throw new IllegalArgumentException(labelsFile + ": " + lab.dims[0] + " labels for " + img.dims[0]
            + " images in " + images.getFileName());
      }
      labels = new int[lab.dims[0]];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = lab.data[i] & 0xff;
      }
    }
    long[] shape = {1, img.dims[1], img.dims[2]};
    String d = "mnist:" + dir + " (" + split + ", " + img.dims[0] + " images 1×" + img.dims[1] + "×" + img.dims[2]
        + (labels != null ? ", labelled" : "") + ", scaled to [-1, 1])";
    return ArraySource.ofBytes(d, shape, img.dims[0], img.data, new DataSource.Affine(1 / 127.5, -1), labels,
        options.flip());
  }

  private static Path find(Path dir, String... names) {
    for (String n : names) {
      for (String f : new String[] {n, n + ".gz"}) {
        Path p = dir.resolve(f);
        if (Files.isRegularFile(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /** An unsigned-byte IDX array. */
  record Idx(int[] dims, byte[] data) {}

  /** Reads an unsigned-byte IDX file with {@code ndim} dimensions, plain or gzip. */
  static Idx readIdx(Path file, int ndim) throws IOException {
    byte[] b;
    if (file.getFileName().toString().endsWith(".gz")) {
      try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
        b = in.readAllBytes();
      } catch (EOFException e) {
        throw new IllegalArgumentException(file + ": truncated gzip stream");
      } catch (ZipException e) {
        throw new IllegalArgumentException(file + ": not a valid gzip file (" + e.getMessage() + ")");
      }
    } else {
      b = Files.readAllBytes(file);
    }
    if (b.length < 4 + 4 * ndim) {
      throw new IllegalArgumentException(file + ": not an IDX file (only " + b.length + " bytes)");
    }
    if (b[0] != 0 || b[1] != 0) {
      throw new IllegalArgumentException(file + ": not an IDX file (bad magic bytes)");
    }
    if (b[2] != 0x08) {
      throw new IllegalArgumentException(file + ": IDX element type 0x" + Integer.toHexString(b[2] & 0xff)
          + " is not unsigned byte (0x08)");
    }
    if (b[3] != ndim) {
      throw new IllegalArgumentException(file + ": IDX file has " + b[3] + " dimensions, expected " + ndim);
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    int[] dims = new int[ndim];
    long n = 1;
    for (int i = 0; i < ndim; i++) {
      dims[i] = buf.getInt(4 + 4 * i);
      if (dims[i] < 0) {
        throw new IllegalArgumentException(file + ": negative IDX dimension " + dims[i]);
      }
      n *= dims[i];
    }
    int start = 4 + 4 * ndim;
    if (start + n > b.length) {
      throw new IllegalArgumentException(file + ": truncated IDX data: " + java.util.Arrays.toString(dims)
          + " needs " + n + " bytes, file has " + (b.length - start));
    }
    if (dims[0] == 0) {
      throw new IllegalArgumentException(file + ": IDX file holds no items");
    }
    return new Idx(dims, java.util.Arrays.copyOfRange(b, start, start + (int) n));
  }
}
