package org.diffusion4j.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.SampleResult;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;

/**
 * One sampler run on a Gaussian mixture's exact denoiser, in batches, with its cost and (optionally)
 * its trajectory: the engine-facing half of {@code d4j sample}, {@code d4j demo} and the benchmark.
 * Sample k depends only on its initial state and on seed k's noise stream, whatever the batch size.
 */
public final class MixtureRun {
  private MixtureRun() {}

  /**
   * What a run produced.
   *
   * @param x final states in process coordinates at the last grid point, n·d row-major
   * @param trajectory states at every grid point in process coordinates, [(steps+1)·n·d], or null
   * @param nfeMin fewest denoiser evaluations of a batch
   * @param nfeMax most denoiser evaluations of a batch (differs from nfeMin only for adaptive samplers)
   * @param nanos wall time of the sampler runs
   * @param denoiserNanos time spent inside denoiser calls
   */
  public record Result(double[] x, double[] trajectory, int nfeMin, int nfeMax, long nanos, long denoiserNanos) {
    /** NFE as text, e.g. {@code 35} or {@code 40–44}. */
    public String nfeText() {
      return nfeMin == nfeMax ? Integer.toString(nfeMin) : nfeMin + "–" + nfeMax;
    }
  }

  /** The prior draw at grid point 0 in process coordinates: {@code x = s_0·σ_0·ε}. */
  public static double[] prior(Grid grid, double[] eps) {
    double c = grid.s(0) * grid.sigma(0);
    double[] x = new double[eps.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = c * eps[i];
    }
    return x;
  }

  /** Standard normals ε, the first {@code dim} draws of each seed's stream (advancing the streams). */
  public static double[] normals(SeededNoise noise, int n, int dim) {
    double[] eps = new double[n * dim];
    for (int k = 0; k < n; k++) {
      System.arraycopy(noise.next(k, dim), 0, eps, k * dim, dim);
    }
    return eps;
  }

  /**
   * Runs {@code sampler} on {@code gm}'s exact denoiser.
   *
   * @param x0 initial states in process coordinates at grid point 0, n·d row-major
   * @param noise one stream per sample (used by stochastic samplers)
   * @param batch samples per batch, &gt;= 1
   * @param dtype FLOAT32 or FLOAT64
   * @param trajectory whether to record every grid point's state
   */
  public static Result run(GaussianMixture gm, Grid grid, Sampler sampler, double[] x0, SeededNoise noise,
      int batch, DataType dtype, boolean trajectory) {
    return run(gm.denoiser(), new long[] {gm.dim()}, grid, sampler, x0, noise, batch, dtype, trajectory);
  }

  /**
   * Runs {@code sampler} with any denoiser on states of shape {@code [n, sampleShape…]} stored
   * row-major in {@code x0}, in batches of {@code batch} (sample k's noise from its own stream).
   */
  public static Result run(Denoiser model, long[] sampleShape, Grid grid, Sampler sampler, double[] x0,
      SeededNoise noise, int batch, DataType dtype, boolean trajectory) {
    int d = 1;
    for (long v : sampleShape) {
      d *= (int) v;
    }
    int n = x0.length / d;
    int points = grid.size();
    double[] out = new double[x0.length];
    double[] traj = trajectory ? new double[points * x0.length] : null;
    if (traj != null) {
      System.arraycopy(x0, 0, traj, 0, x0.length);
    }
    long[] inside = {0};
    Denoiser exact = model;
    Denoiser timed = (x, sigma) -> {
      long t0 = System.nanoTime();
      NDArray r = exact.denoise(x, sigma);
      inside[0] += System.nanoTime() - t0;
      return r;
    };
    int nfeMin = Integer.MAX_VALUE;
    int nfeMax = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      long start = System.nanoTime();
      for (int from = 0; from < n; from += batch) {
        int to = Math.min(n, from + batch);
        int offset = from * d;
        StepListener rec = traj == null ? StepListener.NONE : info -> {
          double[] v = info.xHat().toType(DataType.FLOAT64, false).toDoubleArray();
          int base = (info.step() + 1) * x0.length + offset;
          for (int i = 0; i < v.length; i++) {
            traj[base + i] = info.scaleNext() * v[i];
          }
        };
        try (NDManager bm = m.newSubManager()) {
          long[] bshape = new long[sampleShape.length + 1];
          bshape[0] = to - from;
          System.arraycopy(sampleShape, 0, bshape, 1, sampleShape.length);
          NDArray xb = bm.create(Arrays.copyOfRange(x0, offset, to * d), new Shape(bshape));
          if (dtype != DataType.FLOAT64) {
            xb = xb.toType(dtype, false);
          }
          SampleResult r = sampler.sample(timed, grid, xb, noise.slice(from, to), rec);
          double[] v = r.x().toType(DataType.FLOAT64, false).toDoubleArray();
          System.arraycopy(v, 0, out, offset, v.length);
          nfeMin = Math.min(nfeMin, r.nfe());
          nfeMax = Math.max(nfeMax, r.nfe());
        }
      }
      return new Result(out, traj, nfeMin, nfeMax, System.nanoTime() - start, inside[0]);
    }
  }

  /** x/s at grid point i: the scaled state x̂ (data scale). */
  public static double[] scaled(double[] x, Grid grid, int i) {
    double s = grid.s(i);
    double[] out = new double[x.length];
    for (int k = 0; k < x.length; k++) {
      out[k] = x[k] / s;
    }
    return out;
  }

  /**
   * The exact PF-ODE solution ({@link ExactFlow}) of initial states {@code x0} (process coordinates at
   * grid point 0) at the grid's last point, in x̂ = x/s.
   */
  public static double[] reference(GaussianMixture gm, Grid grid, double[] x0) {
    return ExactFlow.solve(gm, scaled(x0, grid, 0), grid.sigma(0), grid.sigma(grid.size() - 1));
  }

  /** Root-mean-square difference over all coordinates. */
  public static double rms(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double e = a[i] - b[i];
      s += e * e;
    }
    return Math.sqrt(s / a.length);
  }

  /** Largest absolute difference. */
  public static double maxAbs(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s = Math.max(s, Math.abs(a[i] - b[i]));
    }
    return s;
  }

  /** Per-dimension mean of n·d row-major points. */
  public static double[] mean(double[] x, int d) {
    double[] m = new double[d];
    int n = x.length / d;
    for (int i = 0; i < x.length; i++) {
      m[i % d] += x[i] / n;
    }
    return m;
  }

  /** Per-dimension sample standard deviation (divisor n − 1) of n·d row-major points. */
  public static double[] std(double[] x, int d) {
    double[] m = mean(x, d);
    double[] v = new double[d];
    int n = x.length / d;
    for (int i = 0; i < x.length; i++) {
      double e = x[i] - m[i % d];
      v[i % d] += e * e / Math.max(1, n - 1);
    }
    for (int j = 0; j < d; j++) {
      v[j] = Math.sqrt(v[j]);
    }
    return v;
  }

  /** Average of an array. */
  public static double average(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }
}
