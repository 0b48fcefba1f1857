package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Per-sample seeded noise: sample k has its own generator seeded by {@code seeds[k]}, so its draws do
 * not depend on the batch it runs in (house style: reproducibility is API). Draws are made on the
 * host in double (SplittableRandom + Gaussian) and converted to the requested dtype, so they are the
 * same on every engine and device.
 */
public final class SeededNoise implements NoiseSource {
  private final long[] seeds;
  private final SplittableRandom[] streams;

  /** One stream per seed. */
  public SeededNoise(long... seeds) {
    if (seeds.length == 0) {
      throw new IllegalArgumentException("at least one seed is needed");
    }
    this.seeds = seeds.clone();
    this.streams = new SplittableRandom[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      streams[i] = new SplittableRandom(seeds[i]);
    }
  }

  /** The seeds, in batch order. */
  public long[] seeds() {
    return seeds.clone();
  }

  /** Sample k's next {@code count} standard normals. */
  public double[] next(int k, int count) {
    double[] v = new double[count];
    for (int i = 0; i < count; i++) {
      v[i] = streams[k].nextGaussian();
    }
    return v;
  }

  /** A source for the samples {@code from..to-1} of this one, sharing their streams (for batching). */
  public SeededNoise slice(int from, int to) {
    SeededNoise s = new SeededNoise(java.util.Arrays.copyOfRange(seeds, from, to));
    System.arraycopy(streams, from, s.streams, 0, to - from);
    return s;
  }

  @Override
  public NDArray randn(NDManager manager, Shape shape, DataType dtype) {
    if (shape.dimension() < 1 || shape.get(0) != seeds.length) {
      throw new IllegalArgumentException(
          "noise shape " + shape + " must have batch size " + seeds.length + " (one row per seed)");
    }
    int per = (int) (shape.size() / seeds.length);
    double[] all = new double[(int) shape.size()];
    for (int k = 0; k < seeds.length; k++) {
      System.arraycopy(next(k, per), 0, all, k * per, per);
    }
    NDArray a = manager.create(all, shape);
    return dtype == DataType.FLOAT64 ? a : a.toType(dtype, false);
  }

  /**
   * Parses seed lists such as {@code 0-63} or {@code 1,2,5-10} (ranges inclusive).
   */
  public static long[] parseSeeds(String spec) {
    List<Long> out = new ArrayList<>();
    for (String part : spec.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        throw new IllegalArgumentException("empty entry in seeds '" + spec + "'; use e.g. 0-63 or 1,2,5-10");
      }
      try {
        int dash = p.indexOf('-', 1);
        if (dash > 0) {
          long a = Long.parseLong(p.substring(0, dash).trim());
          long b = Long.parseLong(p.substring(dash + 1).trim());
          if (b < a) {
            throw new IllegalArgumentException("seed range '" + p + "' is empty (end < start)");
          }
          if (b - a > 10_000_000) {
            throw new IllegalArgumentException("seed range '" + p + "' is too large");
          }
          for (long s = a; s <= b; s++) {
            out.add(s);
          }
        } else {
          out.add(Long.parseLong(p));
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "bad seed entry '%s' in '%s'; use e.g. 0-63 or 1,2,5-10", p, spec));
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }
}
