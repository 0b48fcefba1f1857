package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.diffusion4j.sampling.StepScope;

/**
 * Conjugate gradients (Hestenes &amp; Stiefel 1952; Shewchuk 1994, "An introduction to the conjugate
 * gradient method without the agonizing pain", §B2) for a batch of independent symmetric positive
 * definite systems {@code M_i v_i = b_i}, one per sample of a batch {@code [n, …]}: each sample has its
 * own step sizes, and a sample whose residual is below the tolerance stops moving. Starts from
 * {@code v = 0}; converged means {@code ‖b_i − M_i v_i‖ ≤ tolerance·‖b_i‖} for every sample. Runs in
 * the dtype of b (give it float64 for ill-conditioned systems).
 */
public final class ConjugateGradient {
  private final int maxIterations;
  private final double tolerance;

  /** The outcome: the solution and the iterations it took. */
  public record Solution(NDArray v, int iterations) {}

  /**
   * @param maxIterations the bound on iterations, 1..100000
   * @param tolerance the relative residual to reach, in (0, 1)
   */
  public ConjugateGradient(int maxIterations, double tolerance) {
    if (maxIterations < 1 || maxIterations > 100_000) {
      throw new IllegalArgumentException("conjugate gradients: the iteration bound must be in 1..100000, got "
          + maxIterations);
    }
    if (!(tolerance > 0 && tolerance < 1)) {
      throw new IllegalArgumentException("conjugate gradients: the relative tolerance must be in (0, 1), got " + tolerance);
    }
    this.maxIterations = maxIterations;
    this.tolerance = tolerance;
  }

  /**
   * Solves {@code M v = b} per sample.
   *
   * @param m the batched product {@code v ↦ M v} (symmetric positive definite per sample)
   * @param b right-hand sides {@code [n, …]}, finite
   * @throws IllegalStateException when some sample has not converged after the bound, naming its
   *     relative residual, or when {@code pᵀ M p} is not positive and finite (M not positive definite)
   */
  public Solution solve(UnaryOperator<NDArray> m, NDArray b) {
    int n = Math.toIntExact(b.getShape().get(0));
    double[] bb = dots(b, b);
    for (int i = 0; i < n; i++) {
      if (!Double.isFinite(bb[i])) {
        throw new IllegalArgumentException("conjugate gradients: the right-hand side of sample " + i + " is not finite");
      }
    }
    NDArray v = b.zerosLike();
    NDArray r = b.duplicate();
    NDArray p = b.duplicate();
    double[] rr = bb.clone();
    int k = 0;
    try {
      while (true) {
        int worst = worst(rr, bb);
        if (worst < 0) {
          return new Solution(v, k);
        }
        if (k == maxIterations) {
          throw new IllegalStateException(String.format(Locale.ROOT, "conjugate gradients did not converge in %d "
              + "iterations: relative residual %.3g > %.3g (sample %d)", maxIterations,
              Math.sqrt(rr[worst] / bb[worst]), tolerance, worst));
        }
        try (StepScope step = new StepScope()) {
          NDArray mp = m.apply(p);
          double[] pmp = dots(p, mp);
          double[] alpha = new double[n];
          for (int i = 0; i < n; i++) {
            if (!done(rr[i], bb[i])) {
              if (!(pmp[i] > 0) || Double.isInfinite(pmp[i])) {
                throw new IllegalStateException("conjugate gradients: pᵀMp = " + pmp[i] + " for sample " + i
                    + " at iteration " + k + "; the system is not positive definite (or not finite)");
              }
              alpha[i] = rr[i] / pmp[i];
            }
          }
          NDArray a = Rows.column(b, alpha);
          NDArray v2 = v.add(p.mul(a));
          NDArray r2 = r.sub(mp.mul(a));
          double[] rr2 = dots(r2, r2);
          double[] beta = new double[n];
          for (int i = 0; i < n; i++) {
            beta[i] = done(rr[i], bb[i]) ? 0 : rr2[i] / rr[i];
          }
          NDArray p2 = r2.add(p.mul(Rows.column(b, beta)));
          step.keep(v2);
          step.keep(r2);
          step.keep(p2);
          v.close();
          r.close();
          p.close();
          v = v2;
          r = r2;
          p = p2;
          for (int i = 0; i < n; i++) {
            if (!done(rr[i], bb[i])) {
              rr[i] = rr2[i];
            }
          }
        }
        k++;
      }
    } catch (RuntimeException e) {
      v.close();
      throw e;
    } finally {
      r.close();
      p.close();
    }
  }

  private boolean done(double rr, double bb) {
    return rr <= tolerance * tolerance * bb;
  }

  /** The sample furthest from converged, or −1 when all are. */
  private int worst(double[] rr, double[] bb) {
    int w = -1;
    double most = 0;
    for (int i = 0; i < rr.length; i++) {
      if (!done(rr[i], bb[i])) {
        double rel = bb[i] == 0 ? Double.POSITIVE_INFINITY : rr[i] / bb[i];
        if (w < 0 || rel > most || Double.isNaN(rel)) {
          w = i;
          most = rel;
        }
      }
    }
    return w;
  }

  /** Per-sample inner products of two batches. */
  static double[] dots(NDArray a, NDArray b) {
    long n = a.getShape().get(0);
    try (StepScope scope = new StepScope()) {
      return a.mul(b).reshape(n, -1).sum(new int[] {1}).toType(ai.djl.ndarray.types.DataType.FLOAT64, false)
          .toDoubleArray();
    }
  }
}
