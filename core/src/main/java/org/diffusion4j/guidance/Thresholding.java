package org.diffusion4j.guidance;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;

/**
 * Thresholding of the x0-prediction (Saharia et al. 2022, "Photorealistic text-to-image diffusion
 * models with deep language understanding", §2.3), for data known to lie in {@code [−max, max]}
 * (images in [−1, 1]), which keeps strongly guided samples from saturating:
 * <ul>
 *   <li>static: {@code D ← clip(D, −max, max)} (Ho et al. 2020's clipping of x̂0);</li>
 *   <li>dynamic: per sample, s = the p-quantile of |D| over the sample's values, clamped to
 *       {@code [1, sMax]}; {@code D ← clip(D, −s, s)·max/s} (diffusers' {@code thresholding=True} with
 *       {@code dynamic_thresholding_ratio = p}, {@code sample_max_value = sMax}, for max = 1).</li>
 * </ul>
 * Quantiles are the linear interpolation of the sorted values (numpy's default).
 */
public final class Thresholding implements Denoiser {
  private final Denoiser model;
  private final boolean dynamic;
  private final double max;
  private final double quantile;
  private final double sMax;

  private Thresholding(Denoiser model, boolean dynamic, double max, double quantile, double sMax) {
    this.model = Objects.requireNonNull(model, "model");
    if (!(max > 0) || Double.isInfinite(max)) {
      throw new IllegalArgumentException("threshold range must be a finite number > 0, got " + max);
    }
    if (!(quantile > 0 && quantile <= 1)) {
      throw new IllegalArgumentException("dynamic-threshold quantile p must be in (0, 1], got " + quantile);
    }
    if (!(sMax >= 1)) {
      throw new IllegalArgumentException("dynamic-threshold sample_max_value must be >= 1, got " + sMax);
    }
    this.dynamic = dynamic;
    this.max = max;
    this.quantile = quantile;
    this.sMax = sMax;
  }

  /** Static clipping to {@code [−max, max]}. */
  public static Thresholding clip(Denoiser model, double max) {
    return new Thresholding(model, false, max, 1, 1);
  }

  /** Dynamic thresholding with quantile p (Saharia et al.: 0.995), range max and s ≤ sMax (diffusers: 1). */
  public static Thresholding dynamic(Denoiser model, double p, double max, double sMax) {
    return new Thresholding(model, true, max, p, sMax);
  }

  /**
   * Parses {@code static}, {@code dynamic} or {@code dynamic:P} (P the quantile, default 0.995), with data
   * range {@code [−max, max]}.
   */
  public static Thresholding parse(String spec, Denoiser model, double max) {
    String s = spec.toLowerCase(Locale.ROOT).trim();
    if (s.equals("static")) {
      return clip(model, max);
    }
    if (s.equals("dynamic")) {
      return dynamic(model, 0.995, max, Double.POSITIVE_INFINITY);
    }
    if (s.startsWith("dynamic:")) {
      double p;
      try {
        p = Double.parseDouble(s.substring(8));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("threshold '" + spec + "': the quantile after 'dynamic:' must be a number");
      }
      return dynamic(model, p, max, Double.POSITIVE_INFINITY);
    }
    throw new IllegalArgumentException("unknown threshold '" + spec + "'; accepted: static, dynamic, dynamic:P");
  }

  @Override
  public NDArray denoise(NDArray x, double[] sigma, Conditioning c) {
    NDArray d = model.denoise(x, sigma, c);
    if (!dynamic) {
      return d.clip(-max, max);
    }
    int n = Math.toIntExact(d.getShape().get(0));
    int per = Rows.perSample(d);
    double[] v = d.toType(DataType.FLOAT64, false).toDoubleArray();
    double[] s = new double[n];
    double[] row = new double[per];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < per; j++) {
        row[j] = Math.abs(v[i * per + j]) / max;
      }
      Arrays.sort(row);
      double q = quantile(row, quantile);
      if (Double.isNaN(q)) {
        throw new IllegalArgumentException("dynamic thresholding: the x0-prediction of sample " + i + " is not finite");
      }
      s[i] = Math.min(Math.max(q, 1), sMax);
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < per; j++) {
        double lim = s[i] * max;
        v[i * per + j] = Math.max(-lim, Math.min(lim, v[i * per + j])) / s[i];
      }
    }
    NDArray out = d.getManager().create(v, d.getShape());
    return out.getDataType() == d.getDataType() ? out : out.toType(d.getDataType(), false);
  }

  /** numpy's linear quantile of sorted values. */
  static double quantile(double[] sorted, double p) {
    double h = (sorted.length - 1) * p;
    int lo = (int) Math.floor(h);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
  }

  @Override
  public String toString() {
    return dynamic ? "dynamic thresholding p = " + quantile : "static clipping to ±" + max;
  }
}
