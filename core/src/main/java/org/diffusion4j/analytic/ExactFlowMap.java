package org.diffusion4j.analytic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.FlowMap;

/**
 * The exact flow map {@code Ψ(x̂, σ → σ′)} of the PF-ODE of a {@link GaussianMixture}: the ground truth
 * every distillation and flow-map method is measured against (Song et al. 2023, consistency models;
 * Kim et al. 2024, CTM; Geng et al. 2025, Mean Flows). For one isotropic Gaussian N(μ, s²I) the ODE
 * solves in closed form, {@code Ψ(x̂, σ → σ′) = μ + (x̂ − μ)·sqrt((s² + σ′²)/(s² + σ²))}; a mixture is
 * solved numerically by {@link ExactFlow}.
 */
public final class ExactFlowMap {
  private ExactFlowMap() {}

  /** The closed-form map of N(mean, std²I) for the states {@code x} (n·d, row-major). */
  public static double[] gaussian(double[] mean, double std, double[] x, double from, double to) {
    if (!(std >= 0) || Double.isInfinite(std)) {
      throw new IllegalArgumentException("std must be finite and >= 0, got " + std);
    }
    checkLevels(from, to);
    double k = Math.sqrt((std * std + to * to) / (std * std + from * from));
    int d = mean.length;
    if (x.length % d != 0) {
      throw new IllegalArgumentException(x.length + " values are not whole samples of dimension " + d);
    }
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double m = mean[i % d];
      out[i] = m + (x[i] - m) * k;
    }
    return out;
  }

  /**
   * The map of {@code gm} for the states {@code x} (n·d), one level pair per sample: closed form when
   * gm has one component, otherwise {@link ExactFlow#solve}.
   */
  public static double[] map(GaussianMixture gm, double[] x, double[] from, double[] to) {
    int d = gm.dim();
    int n = x.length / d;
    if (n * d != x.length || from.length != n || to.length != n) {
      throw new IllegalArgumentException("map: " + x.length + " values, " + from.length + " and " + to.length
          + " levels do not describe the same samples of dimension " + d);
    }
    double[] out = new double[x.length];
    for (int i = 0; i < n; i++) {
      checkLevels(from[i], to[i]);
      double[] row = Arrays.copyOfRange(x, i * d, (i + 1) * d);
      double[] y = from[i] == to[i] ? row
          : gm.components() == 1 ? gaussian(gm.means()[0], gm.stds()[0], row, from[i], to[i])
          : ExactFlow.solve(gm, row, from[i], to[i]);
      System.arraycopy(y, 0, out, i * d, d);
    }
    return out;
  }

  /**
   * The exact flow map as a model in the {@link FlowMap} convention: asked at σ with target σ′ it
   * returns {@code g = (σ Ψ(x̂, σ → σ′) − σ′ x̂)/(σ − σ′)}, and without a target level the exact
   * denoiser. Computed in double, returned in x's dtype; it takes no other conditioning.
   */
  public static Denoiser model(GaussianMixture gm) {
    Denoiser exact = gm.denoiser();
    return (x, sigma, c) -> {
      double[] target = c.sigmaTarget();
      if (target == null) {
        return exact.denoise(x, sigma, c);
      }
      Conditioning rest = c.withSigmaTarget(null);
      if (!rest.isEmpty()) {
        throw new IllegalArgumentException("a Gaussian mixture is unconditional, got " + c);
      }
      Shape shape = x.getShape();
      int n = Math.toIntExact(shape.get(0));
      Denoiser.checkSigma(sigma, n);
      double[] all = x.toType(DataType.FLOAT64, false).toDoubleArray();
      double[] mapped = map(gm, all, sigma, target);
      double[] atEqual = new double[all.length];
      boolean anyEqual = false;
      for (int i = 0; i < n; i++) {
        anyEqual |= target[i] == sigma[i];
      }
      if (anyEqual) {
        NDArray e = exact.denoise(x, sigma, Conditioning.NONE);
        atEqual = e.toType(DataType.FLOAT64, false).toDoubleArray();
        e.close();
      }
      double[] g = FlowMap.gOf(all, mapped, atEqual, sigma, target, gm.dim());
      NDArray out = x.getManager().create(g, shape);
      return out.getDataType() == x.getDataType() ? out : out.toType(x.getDataType(), false);
    };
  }

  private static void checkLevels(double from, double to) {
    if (!(from >= 0) || Double.isInfinite(from) || !(to >= 0) || Double.isInfinite(to)) {
      throw new IllegalArgumentException("noise levels must be finite and >= 0, got " + from + " → " + to);
    }
  }
}
