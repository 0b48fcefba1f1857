package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.schedule.Grid;

/**
 * The library's front door for sampling: any {@link Sampler} on any {@link Denoiser} for a list of
 * seeds, in batches. Sample k draws its initial noise ε and every later fresh noise from seed k's own
 * stream, so its result depends only on seed k (and its conditioning row), never on the batch size
 * (EDM's per-seed generators, Karras et al. 2022). The initial state is the prior draw
 * {@code x = s_0·σ_0·ε} at the grid's first point, unless given.
 *
 * <pre>{@code
 * Sampling.Result r = Sampling.of(mixture.denoiser(), 2)
 *     .sampler(SamplerRegistry.create("heun", Map.of()))
 *     .grid(GridSpec.karras().build(Processes.byId("edm"), 18))
 *     .seeds(0, 999)
 *     .run();
 * double[] x = r.samples();   // [1000·2] row-major, data scale
 * }</pre>
 *
 * <p>{@link #stream} hands each batch to a consumer instead, so 50 000 samples need not sit in one array.
 * Every run checks that the state stays finite and, if it does not, stops with a
 * {@link NonFiniteSampleException} naming the step and σ where it first became non-finite.
 */
public final class Sampling {
  /** The most values a recorded trajectory may hold (800 MB of doubles). */
  public static final long MAX_TRAJECTORY = 100_000_000L;

  private final Denoiser model;
  private final long[] sampleShape;
  private final int perSample;
  private Sampler sampler;
  private Grid grid;
  private long[] seeds = seedRange(0, 63);
  private int batch = 0;
  private DataType dtype = DataType.FLOAT64;
  private Conditioning conditioning = Conditioning.NONE;
  private double[] initial;
  private double[] noise;
  private boolean trajectory;
  private StepListener listener = StepListener.NONE;

  private Sampling(Denoiser model, long[] sampleShape) {
    this.model = Objects.requireNonNull(model, "model");
    if (sampleShape.length == 0) {
      throw new IllegalArgumentException("a sample shape needs at least one dimension");
    }
    long d = 1;
    for (long v : sampleShape) {
      if (v < 1) {
        throw new IllegalArgumentException("sample shape " + Arrays.toString(sampleShape) + " has a dimension < 1");
      }
      d = Math.multiplyExact(d, v);
    }
    this.sampleShape = sampleShape.clone();
    this.perSample = Math.toIntExact(d);
  }

  /** A run of {@code model} on samples of shape {@code sampleShape} (e.g. {@code 2} or {@code 1, 28, 28}). */
  public static Sampling of(Denoiser model, long... sampleShape) {
    return new Sampling(model, sampleShape);
  }

  /** The sampler (required). */
  public Sampling sampler(Sampler sampler) {
    this.sampler = Objects.requireNonNull(sampler, "sampler");
    return this;
  }

  /** The grid, with its process (required). */
  public Sampling grid(Grid grid) {
    this.grid = Objects.requireNonNull(grid, "grid");
    return this;
  }

  /** The seeds, one sample each (default 0–63). */
  public Sampling seeds(long... seeds) {
    if (seeds.length == 0) {
      throw new IllegalArgumentException("at least one seed is needed");
    }
    this.seeds = seeds.clone();
    return this;
  }

  /** Seeds {@code from..to} inclusive. */
  public Sampling seeds(long from, long to) {
    return seeds(seedRange(from, to));
  }

  /** Samples per batch, ≥ 1 (default: all in one batch); the output does not depend on it. */
  public Sampling batch(int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    }
    this.batch = batch;
    return this;
  }

  /** Integration precision, FLOAT64 (default) or FLOAT32. */
  public Sampling dtype(DataType dtype) {
    if (dtype != DataType.FLOAT64 && dtype != DataType.FLOAT32) {
      throw new IllegalArgumentException("dtype must be float64 or float32, got " + dtype);
    }
    this.dtype = dtype;
    return this;
  }

  /** One conditioning row per seed (class labels, …), sliced with the batches. */
  public Sampling conditioning(Conditioning conditioning) {
    this.conditioning = Objects.requireNonNull(conditioning, "conditioning");
    return this;
  }

  /**
   * The initial states themselves, n·d row-major in the process's coordinates at the grid's first point
   * (what a diffusers user passes as latents); the seeds then only drive fresh noise.
   */
  public Sampling initial(double[] x0) {
    this.initial = x0.clone();
    this.noise = null;
    return this;
  }

  /** The initial ε, n·d row-major; the initial state is {@code s_0·σ_0·ε}. */
  public Sampling noise(double[] eps) {
    this.noise = eps.clone();
    this.initial = null;
    return this;
  }

  /** Also record every grid point's state (process coordinates). */
  public Sampling trajectory(boolean record) {
    this.trajectory = record;
    return this;
  }

  /** Observes every step of every batch. */
  public Sampling listener(StepListener listener) {
    this.listener = listener == null ? StepListener.NONE : listener;
    return this;
  }

  /**
   * One batch of results.
   *
   * @param from index of the batch's first sample in the seed list
   * @param seeds the batch's seeds
   * @param x final states in process coordinates at the last grid point, row-major
   * @param samples final states in data scale, {@code x / s_N} (= x when the grid ends at σ = 0)
   * @param trajectory every grid point's state of this batch, [(steps+1)·b·d] in process coordinates, or null
   * @param nfe denoiser evaluations of this batch
   */
  public record Batch(int from, long[] seeds, double[] x, double[] samples, double[] trajectory, int nfe) {}

  /**
   * A whole run.
   *
   * @param x final states in process coordinates, n·d row-major
   * @param samples final states in data scale
   * @param trajectory [(steps+1)·n·d] in process coordinates, or null
   * @param nfeMin fewest denoiser evaluations of a batch
   * @param nfeMax most (differs from nfeMin only for adaptive samplers)
   * @param nanos wall time of the sampler runs
   * @param denoiserNanos time spent inside denoiser calls
   */
  public record Result(double[] x, double[] samples, double[] trajectory, int nfeMin, int nfeMax, long nanos,
      long denoiserNanos) {
    /** NFE as text, e.g. {@code 35} or {@code 40–44}. */
    public String nfeText() {
      return nfeMin == nfeMax ? Integer.toString(nfeMin) : nfeMin + "–" + nfeMax;
    }
  }

  /** What {@link #stream} reports once every batch is consumed. */
  public record Summary(int samples, int nfeMin, int nfeMax, long nanos, long denoiserNanos) {}

  /** Runs every batch and gathers them. */
  public Result run() {
    int n = seeds.length;
    double[] x = new double[Math.multiplyExact(n, perSample)];
    double[] s = new double[x.length];
    double[] traj = null;
    if (trajectory) {
      long values = (long) gridOrThrow().size() * x.length;
      if (values > MAX_TRAJECTORY) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "a trajectory of %d grid points × %d samples × %d "
            + "values would hold %d values; at most %d fit in memory: record fewer steps or samples", grid.size(), n,
            perSample, values, MAX_TRAJECTORY));
      }
      traj = new double[(int) values];
    }
    double[] trajOut = traj;
    Summary sum = stream(b -> {
      System.arraycopy(b.x(), 0, x, b.from() * perSample, b.x().length);
      System.arraycopy(b.samples(), 0, s, b.from() * perSample, b.samples().length);
      if (trajOut != null) {
        int bn = b.seeds().length * perSample;
        for (int p = 0; p < grid.size(); p++) {
          System.arraycopy(b.trajectory(), p * bn, trajOut, p * x.length + b.from() * perSample, bn);
        }
      }
    });
    return new Result(x, s, trajOut, sum.nfeMin(), sum.nfeMax(), sum.nanos(), sum.denoiserNanos());
  }

  /** Runs batch after batch, handing each to {@code consumer} as soon as it is done. */
  public Summary stream(Consumer<Batch> consumer) {
    if (sampler == null) {
      throw new IllegalStateException("no sampler: call sampler(...) first");
    }
    Grid g = gridOrThrow();
    int n = seeds.length;
    conditioning.requireSize(n);
    long total = (long) n * perSample;
    if (initial != null && initial.length != total) {
      throw new IllegalArgumentException("initial states hold " + initial.length + " values, expected " + n + " × "
          + perSample + " = " + total);
    }
    if (noise != null && noise.length != total) {
      throw new IllegalArgumentException("initial noise holds " + noise.length + " values, expected " + n + " × "
          + perSample + " = " + total);
    }
    int b = batch == 0 ? n : Math.min(batch, n);
    SeededNoise streams = new SeededNoise(seeds);
    double c0 = g.s(0) * g.sigma(0);
    double sLast = g.s(g.size() - 1);
    long[] inside = {0};
    Denoiser timed = (xx, sigma, c) -> {
      long t0 = System.nanoTime();
      NDArray r = model.denoise(xx, sigma, c);
      inside[0] += System.nanoTime() - t0;
      return r;
    };
    int nfeMin = Integer.MAX_VALUE;
    int nfeMax = 0;
    long start = System.nanoTime();
    try (NDManager m = NDManager.newBaseManager()) {
      for (int from = 0; from < n; from += b) {
        int to = Math.min(n, from + b);
        int size = (to - from) * perSample;
        SeededNoise bn = streams.slice(from, to);
        double[] x0 = new double[size];
        for (int k = 0; k < to - from; k++) {
          if (initial != null) {
            System.arraycopy(initial, (from + k) * perSample, x0, k * perSample, perSample);
          } else {
            // ε is the first d draws of the sample's own stream; later draws are the sampler's noise.
            double[] eps = noise != null ? Arrays.copyOfRange(noise, (from + k) * perSample, (from + k + 1) * perSample)
                : bn.next(k, perSample);
            for (int i = 0; i < perSample; i++) {
              x0[k * perSample + i] = c0 * eps[i];
            }
          }
        }
        double[] traj = trajectory ? new double[g.size() * size] : null;
        if (traj != null) {
          System.arraycopy(x0, 0, traj, 0, size);
        }
        int[] bad = {-1};
        double[] badSigma = {0};
        StepListener watch = info -> {
          if (bad[0] < 0 && !finite(info.xHat())) {
            bad[0] = info.step();
            badSigma[0] = info.sigmaNext();
          }
          if (traj != null) {
            double[] v = info.xHat().toType(DataType.FLOAT64, false).toDoubleArray();
            int base = (info.step() + 1) * size;
            for (int i = 0; i < v.length; i++) {
              traj[base + i] = info.scaleNext() * v[i];
            }
          }
        };
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = to - from;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        double[] out;
        int nfe;
        try (NDManager bm = m.newSubManager()) {
          NDArray xb = bm.create(x0, new Shape(shape));
          if (dtype != DataType.FLOAT64) {
            xb = xb.toType(dtype, false);
          }
          SampleResult r = sampler.sample(timed.conditioned(conditioning.slice(from, to)), g, xb, bn,
              listener == StepListener.NONE ? watch : info -> {
                watch.onStep(info);
                listener.onStep(info);
              });
          out = r.x().toType(DataType.FLOAT64, false).toDoubleArray();
          nfe = r.nfe();
        }
        if (bad[0] >= 0 || !finite(out)) {
          throw new NonFiniteSampleException(bad[0] >= 0
              ? String.format(Locale.ROOT, "%s: the samples of seeds %d–%d became non-finite at step %d of %d (σ %s)",
                  sampler.id(), seeds[from], seeds[to - 1], bad[0] + 1, g.steps(), badSigma[0])
              : String.format(Locale.ROOT, "%s: the samples of seeds %d–%d are non-finite after the last step",
                  sampler.id(), seeds[from], seeds[to - 1]), bad[0]);
        }
        double[] data = new double[out.length];
        for (int i = 0; i < out.length; i++) {
          data[i] = out[i] / sLast;
        }
        nfeMin = Math.min(nfeMin, nfe);
        nfeMax = Math.max(nfeMax, nfe);
        consumer.accept(new Batch(from, Arrays.copyOfRange(seeds, from, to), out, data, traj, nfe));
      }
    }
    return new Summary(n, nfeMin, nfeMax, System.nanoTime() - start, inside[0]);
  }

  private Grid gridOrThrow() {
    if (grid == null) {
      throw new IllegalStateException("no grid: call grid(...) first, e.g. grid(GridSpec.karras().build(process, 18))");
    }
    return grid;
  }

  private static boolean finite(NDArray x) {
    try (NDArray s = x.toType(DataType.FLOAT64, false).abs().max()) {
      return Double.isFinite(s.getDouble());
    }
  }

  private static boolean finite(double[] v) {
    for (double d : v) {
      if (!Double.isFinite(d)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The initial states a run draws for {@code seeds} when none are given: {@code s_0·σ_0·ε} with ε the first
   * {@code perSample} draws of each seed's stream, n·perSample row-major (to compare with a reference).
   */
  public static double[] prior(Grid grid, long[] seeds, int perSample) {
    SeededNoise noise = new SeededNoise(seeds);
    double c = grid.s(0) * grid.sigma(0);
    double[] x = new double[Math.multiplyExact(seeds.length, perSample)];
    for (int k = 0; k < seeds.length; k++) {
      double[] eps = noise.next(k, perSample);
      for (int i = 0; i < perSample; i++) {
        x[k * perSample + i] = c * eps[i];
      }
    }
    return x;
  }

  /** Seeds {@code from..to} inclusive. */
  public static long[] seedRange(long from, long to) {
    if (to < from || to - from >= Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("seed range " + from + "-" + to + " is empty or too long");
    }
    long[] s = new long[(int) (to - from + 1)];
    for (int i = 0; i < s.length; i++) {
      s[i] = from + i;
    }
    return s;
  }
}
