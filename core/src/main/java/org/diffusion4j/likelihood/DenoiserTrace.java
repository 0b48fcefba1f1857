package org.diffusion4j.likelihood;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Denoiser;

/**
 * {@code tr ∂D/∂x̂} of any denoiser that is differentiable in its input (a network; not the host-side
 * exact mixture, which has {@link MixtureTrace}), by vector–Jacobian products {@code uᵀ(∂D/∂x̂)u}: with
 * the unit vectors e_1 … e_d this is the exact trace (one input gradient per dimension); with K random
 * probes it is Hutchinson's estimator (Hutchinson 1989; Grathwohl et al. 2019). Probes of several
 * vectors are batched by replicating the points, at most {@code maxRows} rows per forward pass.
 *
 * <p>Point i's Hutchinson probes are drawn from a generator seeded by (seed, i), so they are the same
 * at every σ of the path and do not depend on how points are batched.
 */
public final class DenoiserTrace implements TraceModel {
  private final Denoiser model;
  private final long[] sampleShape;
  private final int dim;
  private final Divergence method;
  private final NDManager manager;
  private final DataType dtype;
  private final int maxRows;

  /**
   * @param model a denoiser differentiable in x̂ (its output must depend on x̂ through NDArray operations)
   * @param sampleShape the shape of one sample, e.g. {@code {2}} or {@code {1, 28, 28}}
   * @param method exact or Hutchinson
   * @param manager the manager the model's arrays live on
   * @param dtype the dtype x̂ is fed in (FLOAT32 for networks)
   * @param maxRows largest batch of one forward pass, ≥ 1
   */
  public DenoiserTrace(Denoiser model, long[] sampleShape, Divergence method, NDManager manager, DataType dtype,
      int maxRows) {
    long d = 1;
    for (long s : sampleShape) {
      if (s < 1) {
        throw new IllegalArgumentException("sample shape " + Arrays.toString(sampleShape) + " has a non-positive size");
      }
      d *= s;
    }
    if (maxRows < 1) {
      throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
    }
    this.model = model;
    this.sampleShape = sampleShape.clone();
    this.dim = Math.toIntExact(d);
    this.method = method;
    this.manager = manager;
    this.dtype = dtype;
    this.maxRows = maxRows;
  }

  @Override
  public int dim() {
    return dim;
  }

  /** Number of probe vectors per point: d for the exact trace, K for Hutchinson. */
  public int probesPerPoint() {
    return method instanceof Divergence.Hutchinson h ? h.probes() : dim;
  }

  /** Probe {@code k} of point {@code row}, length d. */
  double[] probe(long row, int k) {
    double[] u = new double[dim];
    if (method instanceof Divergence.Hutchinson h) {
      SplittableRandom rng = new SplittableRandom(h.seed() * 0x9E3779B97F4A7C15L + row * 0xBF58476D1CE4E5B9L + k);
      for (int j = 0; j < dim; j++) {
        u[j] = h.kind() == Divergence.Probe.RADEMACHER ? (rng.nextBoolean() ? 1 : -1) : rng.nextGaussian();
      }
    } else {
      u[k] = 1;
    }
    return u;
  }

  private static IllegalArgumentException notDifferentiable(Exception cause) {
    IllegalArgumentException e = new IllegalArgumentException("the denoiser is not differentiable in its input"
        + " (no gradient reached x̂); use an exact model's own trace (MixtureTrace) or a network");
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  @Override
  public Evaluation evaluate(double[] x, long[] rows, double sigma) {
    int n = rows.length;
    if (x.length != n * dim) {
      throw new IllegalArgumentException("expected " + n + "·" + dim + " coordinates, got " + x.length);
    }
    int probes = probesPerPoint();
    double weight = method instanceof Divergence.Hutchinson ? 1.0 / probes : 1.0;
    double[] den = null;
    double[] tr = new double[n];
    // Each pass: `per` probes for every point (rows ordered probe-major), at most maxRows rows.
    int per = Math.max(1, Math.min(probes, maxRows / Math.max(1, n)));
    for (int k0 = 0; k0 < probes; k0 += per) {
      int kc = Math.min(per, probes - k0);
      double[] xs = new double[kc * n * dim];
      double[] us = new double[kc * n * dim];
      for (int k = 0; k < kc; k++) {
        System.arraycopy(x, 0, xs, k * n * dim, n * dim);
        for (int p = 0; p < n; p++) {
          System.arraycopy(probe(rows[p], k0 + k), 0, us, (k * n + p) * dim, dim);
        }
      }
      double[] grad;
      double[] out;
      try (NDManager m = manager.newSubManager()) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = (long) kc * n;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        NDArray xa = m.create(xs, new Shape(shape)).toType(dtype, false);
        xa.setRequiresGradient(true);
        NDArray g;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray d = model.denoise(xa, sigma);
          NDArray u = m.create(us, new Shape(shape)).toType(d.getDataType(), false);
          gc.backward(d.mul(u).sum());
          out = d.toType(DataType.FLOAT64, false).toDoubleArray();
          g = xa.getGradient();
        } catch (ai.djl.engine.EngineException | IllegalStateException e) {
          throw notDifferentiable(e);
        }
        if (g == null) {
          throw notDifferentiable(null);
        }
        grad = g.toType(DataType.FLOAT64, false).toDoubleArray();
      }
      if (den == null) {
        den = Arrays.copyOf(out, n * dim);
      }
      for (int k = 0; k < kc; k++) {
        for (int p = 0; p < n; p++) {
          int off = (k * n + p) * dim;
          double s = 0;
          for (int j = 0; j < dim; j++) {
            s += us[off + j] * grad[off + j];
          }
          tr[p] += weight * s;
        }
      }
    }
    return new Evaluation(den, tr);
  }
}
