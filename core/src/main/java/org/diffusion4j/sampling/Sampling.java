package org.diffusion4j.sampling;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.device.Devices;
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
 * {@link #workers(int)} / {@link #workers(List)} run the batches on several threads or devices at once; since
 * a batch's result depends only on its seeds, the output is the same as one worker's, bit for bit, as long as
 * each batch's arithmetic is (same engine, device kind and intra-op thread count).
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
  private Device device;
  private int workerCount = 1;
  private List<Worker> workers;

  /**
   * One worker of a sharded run: the model it evaluates (its weights on {@code device}) and the device its
   * arrays are created on (null: the engine's default device).
   */
  public record Worker(Denoiser model, Device device) {
    public Worker {
      Objects.requireNonNull(model, "model");
    }
  }

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

  /**
   * The device the run's arrays are created on (default: {@link Devices#current()}); the model's weights must
   * live there too.
   */
  public Sampling device(Device device) {
    this.device = device;
    return this;
  }

  /**
   * Runs the batches on {@code n} threads sharing this model and device (a CPU split into core groups; set
   * the engine's intra-op threads so that n × threads ≤ cores). 1 (the default) runs them in this thread.
   */
  public Sampling workers(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("workers must be >= 1, got " + n);
    }
    this.workerCount = n;
    this.workers = null;
    return this;
  }

  /**
   * Runs the batches on these workers, one thread each (e.g. one per GPU, each with its own copy of the
   * weights); batches are handed out in seed order to whichever worker is free.
   */
  public Sampling workers(List<Worker> workers) {
    if (workers.isEmpty()) {
      throw new IllegalArgumentException("at least one worker is needed");
    }
    this.workers = List.copyOf(workers);
    return this;
  }

  /** Observes every step of every batch (called from the workers' threads when there are several). */
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
   * @param nfe denoiser evaluations of this batch (per sample)
   * @param depth batched denoiser calls made one after another (= nfe for sequential samplers)
   */
  public record Batch(int from, long[] seeds, double[] x, double[] samples, double[] trajectory, int nfe,
      int depth) {
    /** A batch of a sequential sampler (depth = nfe). */
    public Batch(int from, long[] seeds, double[] x, double[] samples, double[] trajectory, int nfe) {
      this(from, seeds, x, samples, trajectory, nfe, nfe);
    }
  }

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
   * @param depthMin fewest sequential (batched) denoiser calls of a batch
   * @param depthMax most; both equal the NFE for sequential samplers
   */
  public record Result(double[] x, double[] samples, double[] trajectory, int nfeMin, int nfeMax, long nanos,
      long denoiserNanos, int depthMin, int depthMax) {
    /** A run of a sequential sampler (depth = NFE). */
    public Result(double[] x, double[] samples, double[] trajectory, int nfeMin, int nfeMax, long nanos,
        long denoiserNanos) {
      this(x, samples, trajectory, nfeMin, nfeMax, nanos, denoiserNanos, nfeMin, nfeMax);
    }

    /** NFE as text, e.g. {@code 35} or {@code 40–44}. */
    public String nfeText() {
      return nfeMin == nfeMax ? Integer.toString(nfeMin) : nfeMin + "–" + nfeMax;
    }

    /** Sequential depth as text, like {@link #nfeText}. */
    public String depthText() {
      return depthMin == depthMax ? Integer.toString(depthMin) : depthMin + "–" + depthMax;
    }

    /** Whether some denoiser calls evaluated several grid points at once (depth below the NFE). */
    public boolean parallelInTime() {
      return depthMin != nfeMin || depthMax != nfeMax;
    }
  }

  /** What {@link #stream} reports once every batch is consumed. */
  public record Summary(int samples, int nfeMin, int nfeMax, long nanos, long denoiserNanos, int depthMin,
      int depthMax) {
    /** A summary of a sequential sampler (depth = NFE). */
    public Summary(int samples, int nfeMin, int nfeMax, long nanos, long denoiserNanos) {
      this(samples, nfeMin, nfeMax, nanos, denoiserNanos, nfeMin, nfeMax);
    }
  }

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
    return new Result(x, s, trajOut, sum.nfeMin(), sum.nfeMax(), sum.nanos(), sum.denoiserNanos(), sum.depthMin(),
        sum.depthMax());
  }

  /**
   * Runs batch after batch, handing each to {@code consumer} as soon as it is done. With several workers the
   * batches arrive in the order they finish ({@link Batch#from} says where each belongs), one at a time.
   */
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
    List<Worker> team = workers != null ? workers
        : java.util.Collections.nCopies(workerCount, new Worker(model, device));
    int batches = (n + b - 1) / b;
    AtomicInteger next = new AtomicInteger();
    AtomicLong inside = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int[] nfe = {Integer.MAX_VALUE, 0, Integer.MAX_VALUE, 0};
    Object lock = new Object();
    long start = System.nanoTime();
    Runnable[] jobs = new Runnable[team.size()];
    for (int w = 0; w < team.size(); w++) {
      Worker worker = team.get(w);
      Denoiser timed = (xx, sigma, c) -> {
        org.diffusion4j.lifecycle.StopRequest.check("sampling stopped before it finished; nothing was written");
        long t0 = System.nanoTime();
        NDArray r = worker.model().denoise(xx, sigma, c);
        inside.addAndGet(System.nanoTime() - t0);
        return r;
      };
      jobs[w] = () -> {
        try (NDManager m = Devices.newManager(worker.device())) {
          for (int k = next.getAndIncrement(); k < batches && failure.get() == null; k = next.getAndIncrement()) {
            int from = k * b;
            Batch out = batch(timed, m, g, streams, from, Math.min(n, from + b));
            synchronized (lock) {
              if (failure.get() == null) {
                nfe[0] = Math.min(nfe[0], out.nfe());
                nfe[1] = Math.max(nfe[1], out.nfe());
                nfe[2] = Math.min(nfe[2], out.depth());
                nfe[3] = Math.max(nfe[3], out.depth());
                consumer.accept(out);
              }
            }
          }
        } catch (RuntimeException | Error e) {
          failure.compareAndSet(null, e);
        }
      };
    }
    if (jobs.length == 1) {
      jobs[0].run();
    } else {
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < jobs.length; w++) {
        Thread t = new Thread(jobs[w], "d4j-sampling-worker-" + w);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      try {
        for (Thread t : threads) {
          t.join();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure.compareAndSet(null, new IllegalStateException("interrupted while sampling", e));
        threads.forEach(Thread::interrupt);
      }
    }
    Throwable f = failure.get();
    if (f instanceof RuntimeException re) {
      throw re;
    }
    if (f instanceof Error er) {
      throw er;
    }
    return new Summary(n, nfe[0], nfe[1], System.nanoTime() - start, inside.get(), nfe[2], nfe[3]);
  }

  /** Samples {@code from..to-1} of the seed list as one batch, in {@code m}. */
  private Batch batch(Denoiser timed, NDManager m, Grid g, SeededNoise streams, int from, int to) {
    double c0 = g.s(0) * g.sigma(0);
    double sLast = g.s(g.size() - 1);
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
    int depth;
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
      depth = r.depth();
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
    return new Batch(from, Arrays.copyOfRange(seeds, from, to), out, data, traj, nfe, depth);
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
