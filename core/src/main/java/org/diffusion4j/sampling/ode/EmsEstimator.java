package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.StepScope;

/**
 * Estimates DPM-Solver-v3's empirical model statistics (Zheng et al. 2023, §3.2 and App. C.1) from the model
 * itself, on a calibration set of its own PF-ODE trajectories, at knots uniform in λ = −log σ.
 *
 * <p>Trajectories start from x̂ = σ_max ε (seeds {@code seed, seed+1, …}) and follow DPM-Solver++(2M) in x̂ through
 * the knots with at least 200 steps in all (the paper's 200-step DPM-Solver++). At each knot, with the state x̂,
 * the model's D and {@code dx̂/dλ = D − x̂}:
 * <ul>
 *   <li>{@code ℓ = argmin E‖∇_x N‖_F²} with {@code N = σε̂ − ℓx}: per dimension {@code ℓ = σ E[∂ε̂_d/∂x_d] =
 *       1 − E[(∂D/∂x̂)_dd]}, the diagonal by Hutchinson's estimator {@code E[v ⊙ Jv]} with one Rademacher v per
 *       trajectory (the same v at every knot, so the noise in ℓ varies smoothly in λ) and Jv by a central
 *       difference;</li>
 *   <li>{@code (s, b) = argmin E‖f' − (s f + b)‖²} per dimension, the closed-form least squares
 *       {@code s = Cov(f', f)/Var(f)}, {@code b = E f' − s E f}, with {@code f = (1 − ℓ)x̂ − D} and its total
 *       derivative along the ODE {@code f' = (1 − ℓ)(D − x̂) − dD/dλ − ℓ' x̂}: dD/dλ by a central difference along
 *       the ODE direction in (x̂, λ), ℓ' by central differences of ℓ over the knots. {@code Var(f)} gets a ridge of
 *       1e-6 of its mean over dimensions, 1e-14 of the mean variance of x̂ and 1e-10 of the moments it is the difference
 *       of, so a dimension whose f does not vary (a Gaussian's, for which ℓ makes N constant) gets s = 0 and
 *       b = E f'.</li>
 * </ul>
 * Cost: per trajectory and knot 5 NFE, plus the trajectory's own calls between knots.
 */
public final class EmsEstimator {
  /** Fewest trajectory steps in all (the paper's 200-step DPM-Solver++). */
  static final int MIN_TRAJECTORY_STEPS = 200;

  private EmsEstimator() {}

  /**
   * What to estimate on.
   *
   * @param sigmaMin smallest σ (last knot), &gt; 0
   * @param sigmaMax largest σ (first knot; trajectories start there)
   * @param knots number of knots, ≥ 2
   * @param samples number of calibration trajectories, ≥ 2
   * @param seed seed of the first trajectory
   * @param batch trajectories per model call
   */
  public record Calibration(double sigmaMin, double sigmaMax, int knots, int samples, long seed, int batch) {
    public Calibration {
      if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !Double.isFinite(sigmaMax)) {
        throw new IllegalArgumentException("statistics need 0 < sigma-min < sigma-max < inf, got sigma-min "
            + sigmaMin + ", sigma-max " + sigmaMax);
      }
      if (knots < 2 || knots > 100_000) {
        throw new IllegalArgumentException("statistics knots must lie in [2, 100000], got " + knots);
      }
      if (samples < 2) {
        throw new IllegalArgumentException("statistics need at least 2 calibration samples, got " + samples);
      }
      if (batch < 1) {
        throw new IllegalArgumentException("statistics batch must be >= 1, got " + batch);
      }
    }

    /** The knots λ_0 = −log σ_max &lt; … &lt; −log σ_min. */
    public double[] lambdas() {
      double lo = -Math.log(sigmaMax);
      double hi = -Math.log(sigmaMin);
      double[] l = new double[knots];
      for (int k = 0; k < knots; k++) {
        l[k] = k == knots - 1 ? hi : lo + (hi - lo) * k / (knots - 1);
      }
      return l;
    }
  }

  /**
   * The statistics of {@code model} for samples of {@code shape}.
   *
   * @param dtype FLOAT64 (exact models) or FLOAT32 (networks): sets the finite-difference steps
   * @param source recorded in the result (which model, …)
   */
  public static ModelStatistics estimate(Denoiser model, long[] shape, Calibration cal, NDManager manager,
      DataType dtype, String source) {
    int dim = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
    double[] lam = cal.lambdas();
    int nk = lam.length;
    int sub = Math.max(1, (int) Math.ceil((double) MIN_TRAJECTORY_STEPS / (nk - 1)));
    double fd = dtype == DataType.FLOAT64 ? 1e-4 : 1e-2;
    Moments[] mom = new Moments[nk];
    for (int k = 0; k < nk; k++) {
      mom[k] = new Moments(dim);
    }
    for (int start = 0; start < cal.samples(); start += cal.batch()) {
      int b = Math.min(cal.batch(), cal.samples() - start);
      long[] seeds = new long[b];
      for (int i = 0; i < b; i++) {
        seeds[i] = cal.seed() + start + i;
      }
      chunk(model, shape, dim, seeds, cal.sigmaMax(), lam, sub, fd, manager, dtype, mom);
    }
    double[][] l = new double[nk][dim];
    for (int k = 0; k < nk; k++) {
      for (int d = 0; d < dim; d++) {
        l[k][d] = 1 - mom[k].vjv[d] / mom[k].n;
      }
    }
    double[][] s = new double[nk][dim];
    double[][] bb = new double[nk][dim];
    for (int k = 0; k < nk; k++) {
      int k0 = Math.max(0, k - 1);
      int k1 = Math.min(nk - 1, k + 1);
      Moments m = mom[k];
      double n = m.n;
      double[] a = new double[dim];
      double[] c1 = new double[dim];
      double[][] mean = new double[3][dim];
      double[][] cov = new double[6][dim];
      double varF = 0;
      double varY = 0;
      double[] vf = new double[dim];
      for (int d = 0; d < dim; d++) {
        double lp = (l[k1][d] - l[k0][d]) / (lam[k1] - lam[k0]);
        a[d] = 1 - l[k][d];
        c1[d] = -(a[d] + lp);
        for (int i = 0; i < 3; i++) {
          mean[i][d] = m.shift[i][d] + m.z[i][d] / n;
        }
        int c = 0;
        for (int i = 0; i < 3; i++) {
          for (int j = i; j < 3; j++) {
            cov[c][d] = m.zz[c][d] / n - (m.z[i][d] / n) * (m.z[j][d] / n);
            c++;
          }
        }
        // cov index: 0 yy, 1 yD, 2 yḊ, 3 DD, 4 DḊ, 5 ḊḊ
        vf[d] = a[d] * a[d] * cov[0][d] - 2 * a[d] * cov[1][d] + cov[3][d];
        varF += vf[d];
        varY += cov[0][d];
      }
      double ridge = 1e-6 * varF / dim + 1e-14 * varY / dim + Double.MIN_NORMAL;
      for (int d = 0; d < dim; d++) {
        // Var(f) is a difference of x̂ and D moments: below 1e-10 of their size it is round-off.
        double size = a[d] * a[d] * cov[0][d] + 2 * Math.abs(a[d] * cov[1][d]) + cov[3][d];
        double ridgeD = ridge + 1e-10 * size;
        double ad = a[d];
        double cd = c1[d];
        double ef = ad * mean[0][d] - mean[1][d];
        double efp = cd * mean[0][d] + ad * mean[1][d] - mean[2][d];
        double cv = cd * ad * cov[0][d] - cd * cov[1][d] + ad * ad * cov[1][d] - ad * cov[3][d] - ad * cov[2][d]
            + cov[4][d];
        s[k][d] = cv / (Math.max(vf[d], 0) + ridgeD);
        bb[k][d] = efp - s[k][d] * ef;
      }
    }
    return new ModelStatistics(lam, l, s, bb, shape.clone(), source);
  }

  /** Running sums at one knot, per dimension: Σ v⊙Jv and the centred moments of (x̂, D, dD/dλ). */
  private static final class Moments {
    long n;
    final double[] vjv;
    double[][] shift;
    final double[][] z;
    final double[][] zz;

    Moments(int dim) {
      vjv = new double[dim];
      z = new double[3][dim];
      zz = new double[6][dim];
    }

    void add(double[][] v, double[] vj, int rows, int dim) {
      if (shift == null) {
        shift = new double[3][dim];
        for (int i = 0; i < 3; i++) {
          for (int r = 0; r < rows; r++) {
            for (int d = 0; d < dim; d++) {
              shift[i][d] += v[i][r * dim + d] / rows;
            }
          }
        }
      }
      double[] c = new double[3];
      for (int r = 0; r < rows; r++) {
        for (int d = 0; d < dim; d++) {
          int at = r * dim + d;
          vjv[d] += vj[at];
          for (int i = 0; i < 3; i++) {
            c[i] = v[i][at] - shift[i][d];
            z[i][d] += c[i];
          }
          zz[0][d] += c[0] * c[0];
          zz[1][d] += c[0] * c[1];
          zz[2][d] += c[0] * c[2];
          zz[3][d] += c[1] * c[1];
          zz[4][d] += c[1] * c[2];
          zz[5][d] += c[2] * c[2];
        }
      }
      n += rows;
    }
  }

  private static void chunk(Denoiser model, long[] shape, int dim, long[] seeds, double sigmaMax, double[] lam,
      int sub, double fd, NDManager manager, DataType dtype, Moments[] mom) {
    int b = seeds.length;
    SeededNoise noise = new SeededNoise(seeds);
    double[] eps = new double[b * dim];
    double[] probe = new double[b * dim];
    for (int i = 0; i < b; i++) {
      System.arraycopy(noise.next(i, dim), 0, eps, i * dim, dim);
      double[] u = noise.next(i, dim);
      for (int d = 0; d < dim; d++) {
        probe[i * dim + d] = u[d] >= 0 ? 1 : -1;
      }
    }
    long[] full = new long[shape.length + 1];
    full[0] = b;
    System.arraycopy(shape, 0, full, 1, shape.length);
    Shape sh = new Shape(full);
    try (NDManager m = manager.newSubManager()) {
      NDArray y = m.create(eps, sh).mul(sigmaMax).toType(dtype, false);
      NDArray v = m.create(probe, sh).toType(dtype, false);
      NDArray prevD = null;
      double prevH = Double.NaN;
      for (int k = 0; k < lam.length; k++) {
        try (StepScope scope = new StepScope()) {
          double sigma = Math.exp(-lam[k]);
          NDArray den = model.denoise(y, sigma);
          // ℓ: Hutchinson's diagonal of ∂D/∂x̂ by a central difference.
          double delta = fd * sigma;
          NDArray jv = model.denoise(y.add(v.mul(delta)), sigma).sub(model.denoise(y.sub(v.mul(delta)), sigma))
              .div(2 * delta);
          double[] vj = v.mul(jv).toType(DataType.FLOAT64, false).toDoubleArray();
          // dD/dλ along the ODE dx̂/dλ = D − x̂.
          NDArray dir = den.sub(y);
          NDArray dDot = model.denoise(y.add(dir.mul(fd)), sigma * Math.exp(-fd))
              .sub(model.denoise(y.sub(dir.mul(fd)), sigma * Math.exp(fd))).div(2 * fd);
          double[][] vals = {y.toType(DataType.FLOAT64, false).toDoubleArray(),
              den.toType(DataType.FLOAT64, false).toDoubleArray(), dDot.toType(DataType.FLOAT64, false).toDoubleArray()};
          for (double[] a : vals) {
            for (double x : a) {
              if (!Double.isFinite(x)) {
                throw new IllegalStateException("statistics: the model gave a non-finite value at sigma " + sigma
                    + " (knot " + k + ")");
              }
            }
          }
          mom[k].add(vals, vj, b, dim);
          if (k == lam.length - 1) {
            break;
          }
          // DPM-Solver++(2M) in x̂ to the next knot, in sub steps.
          double h = (lam[k + 1] - lam[k]) / sub;
          NDArray yIn = y;
          NDArray dIn = prevD;
          for (int j = 0; j < sub; j++) {
            NDArray d0 = j == 0 ? den : model.denoise(y, Math.exp(-(lam[k] + j * h)));
            NDArray dd = d0;
            if (prevD != null) {
              double half = 1 / (2 * (prevH / h));
              dd = d0.mul(1 + half).sub(prevD.mul(half));
            }
            y = y.mul(Math.exp(-h)).add(dd.mul(-Math.expm1(-h)));
            prevD = d0;
            prevH = h;
          }
          scope.keep(y);
          scope.keep(prevD);
          yIn.close();
          if (dIn != null) {
            dIn.close();
          }
        }
      }
    }
  }
}
