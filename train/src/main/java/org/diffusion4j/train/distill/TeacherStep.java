package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * One PF-ODE step of a (frozen) teacher denoiser from σ to σ′ in x̂ and σ, per sample: the
 * {@code Solver_{σ→σ′}(x̂; φ)} of consistency distillation (Song et al. 2023, eq. 7) and of consistency
 * trajectory models. Euler is DDIM in EDM coordinates; Heun is EDM's second-order step (Karras et al.
 * 2022, Algorithm 1), both with {@code dx̂/dσ = (x̂ − D(x̂; σ))/σ}.
 */
@FunctionalInterface
public interface TeacherStep {

  /**
   * @param teacher the teacher denoiser
   * @param x x̂ at σ, {@code [n, …]}
   * @param from σ per sample, &gt; 0
   * @param to σ′ per sample, &gt; 0 for Heun
   * @param c the batch's conditioning
   */
  NDArray step(Denoiser teacher, NDArray x, double[] from, double[] to, Conditioning c);

  /** Euler (DDIM): {@code x̂ + (σ′ − σ) d}, one teacher evaluation. */
  TeacherStep EULER = (teacher, x, from, to, c) -> {
    NDArray d = x.sub(teacher.denoise(x, from, c)).div(column(x, from));
    return x.add(d.mul(column(x, diff(to, from))));
  };

  /**
   * Heun: Euler, then the trapezoid with the slope at σ′; two teacher evaluations. Rows with σ′ = 0 keep
   * the Euler step (Karras et al. 2022, Algorithm 1: no correction at σ = 0); rows with σ′ = σ are
   * left where they are.
   */
  TeacherStep HEUN = (teacher, x, from, to, c) -> {
    double[] safe = new double[to.length];
    double[] keep = new double[to.length];
    boolean any = false;
    for (int i = 0; i < to.length; i++) {
      if (!(to[i] >= 0) || !(from[i] > 0)) {
        throw new IllegalArgumentException("a Heun teacher step needs σ > 0 and σ′ >= 0, got " + from[i] + " → "
            + to[i] + " for sample " + i);
      }
      any |= to[i] > 0;
      safe[i] = to[i] > 0 ? to[i] : from[i];
      keep[i] = to[i] > 0 ? 1 : 0;
    }
    NDArray h = column(x, diff(to, from));
    NDArray d = x.sub(teacher.denoise(x, from, c)).div(column(x, from));
    NDArray euler = x.add(d.mul(h));
    if (!any) {
      return euler;
    }
    NDArray at = euler.mul(column(x, keep)).add(x.mul(column(x, diff(Denoiser.constant(keep.length, 1), keep))));
    NDArray d2 = at.sub(teacher.denoise(at, safe, c)).div(column(x, safe));
    NDArray heun = x.add(Scalars.mul(d.add(d2).mul(h), 0.5));
    NDArray k = column(x, keep);
    return heun.mul(k).add(euler.mul(k.neg().add(1)));
  };

  /** {@code euler} or {@code heun}. */
  static TeacherStep parse(String id) {
    switch (id) {
      case "euler":
        return EULER;
      case "heun":
        return HEUN;
      default:
        throw new IllegalArgumentException("unknown teacher step '" + id + "'; accepted: euler, heun");
    }
  }

  private static double[] diff(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = a[i] - b[i];
    }
    return r;
  }

  /** {@code v} as {@code [n, 1, …]} in x's dtype. */
  static NDArray column(NDArray x, double[] v) {
    long[] b = new long[x.getShape().dimension()];
    Arrays.fill(b, 1);
    b[0] = v.length;
    return x.getManager().create(v, new Shape(b)).toType(x.getDataType(), false);
  }
}
