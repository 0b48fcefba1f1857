package org.diffusion4j.analytic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.diffusion4j.io.JsonText;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Denoiser;

/**
 * A Gaussian mixture {@code p = Σ_k π_k N(μ_k, s_k² I)} with everything exact at every noise level
 * (the oracle of every sampler test): since {@code p_σ = Σ_k π_k N(μ_k, (s_k² + σ²) I)}, the denoiser is
 * {@code D(x̂; σ) = Σ_k r_k(x̂) (s_k² x̂ + σ² μ_k)/(s_k² + σ²)} with responsibilities r_k, the score
 * is {@code (D − x̂)/σ²}, and the PF-ODE {@code dx̂/dσ = −σ ∇log p_σ(x̂)} is smooth down to σ = 0.
 *
 * <p>JSON form: {@code {"type":"gaussian-mixture","weights":[...],"means":[[...],...],"stds":[...]}};
 * weights are normalised.
 */
public final class GaussianMixture {
  private final double[] weights;
  private final double[][] means;
  private final double[] stds;
  private final int dim;

  /**
   * @param weights π_k ≥ 0, not all zero (normalised here)
   * @param means μ_k, all of one dimension
   * @param stds s_k in [0, 1e150] (0 gives a point mass)
   */
  /** The largest accepted |μ| and s: their squares (and sums of squares) stay far below overflow. */
  public static final double MAX_MAGNITUDE = 1e150;

  public GaussianMixture(double[] weights, double[][] means, double[] stds) {
    int k = weights.length;
    if (k == 0) {
      throw new IllegalArgumentException("a gaussian-mixture needs at least one component");
    }
    if (means.length != k || stds.length != k) {
      throw new IllegalArgumentException("gaussian-mixture has " + k + " weights but " + means.length
          + " means and " + stds.length + " stds; they must match");
    }
    double total = 0;
    for (int i = 0; i < k; i++) {
      if (!(weights[i] >= 0) || Double.isInfinite(weights[i])) {
        throw new IllegalArgumentException("weights[" + i + "] must be finite and >= 0, got " + weights[i]);
      }
      if (!(stds[i] >= 0 && stds[i] <= MAX_MAGNITUDE)) {
        throw new IllegalArgumentException("stds[" + i + "] must be in [0, 1e150] (its square must not "
            + "overflow), got " + stds[i]);
      }
      if (means[i].length != means[0].length || means[i].length == 0) {
        throw new IllegalArgumentException("means[" + i + "] has dimension " + means[i].length
            + " but means[0] has " + means[0].length + "; all must match and be >= 1");
      }
      for (int j = 0; j < means[i].length; j++) {
        if (!(Math.abs(means[i][j]) <= MAX_MAGNITUDE)) {
          throw new IllegalArgumentException("means[" + i + "][" + j + "] must be finite with |mean| <= 1e150 "
              + "(squared distances must not overflow), got " + means[i][j]);
        }
      }
      total += weights[i] / k; // the mean, so that weights near 1e308 do not overflow the sum
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("gaussian-mixture weights must not all be zero");
    }
    this.weights = new double[k];
    this.means = new double[k][];
    for (int i = 0; i < k; i++) {
      this.weights[i] = weights[i] / k / total;
      this.means[i] = means[i].clone();
    }
    this.stds = stds.clone();
    this.dim = means[0].length;
  }

  /** A single Gaussian {@code N(mean, std² I)}. */
  public static GaussianMixture gaussian(double[] mean, double std) {
    return new GaussianMixture(new double[] {1}, new double[][] {mean}, new double[] {std});
  }

  /** The embedded default 2-D mixture of the demo: 8 Gaussians on a circle of radius 2, std 0.1… 0.3. */
  public static GaussianMixture demo2d() {
    int k = 8;
    double[] w = new double[k];
    double[][] mu = new double[k][];
    double[] s = new double[k];
    for (int i = 0; i < k; i++) {
      double a = 2 * Math.PI * i / k;
      w[i] = 1 + (i % 2);
      mu[i] = new double[] {2 * Math.cos(a), 2 * Math.sin(a)};
      s[i] = i % 2 == 0 ? 0.15 : 0.3;
    }
    return new GaussianMixture(w, mu, s);
  }

  /** Parses the JSON form; errors name the offending field. */
  public static GaussianMixture fromJson(String json) {
    JsonElement e = JsonText.parse(json, "model JSON");
    if (!e.isJsonObject()) {
      throw new IllegalArgumentException("model JSON must be an object, got " + JsonText.kind(e));
    }
    return fromJsonTree(e.getAsJsonObject());
  }

  /** Reads a model file; every error names the file and the offending field. */
  public static GaussianMixture read(java.nio.file.Path file) throws java.io.IOException {
    try {
      return fromJsonTree(JsonText.readObject(file));
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      throw new IllegalArgumentException(m.startsWith(file.toString()) ? m : file + ": " + m, e);
    }
  }

  private static GaussianMixture fromJsonTree(JsonObject o) {
    JsonElement type = o.get("type");
    if (type == null || !type.isJsonPrimitive() || !"gaussian-mixture".equals(type.getAsString())) {
      throw new IllegalArgumentException("model JSON field \"type\" must be \"gaussian-mixture\", got "
          + (type == null ? "nothing" : type.toString()));
    }
    double[] w = vector(o, "weights");
    double[] s = vector(o, "stds");
    JsonElement m = o.get("means");
    if (m == null || !m.isJsonArray()) {
      throw new IllegalArgumentException("model JSON field \"means\" must be an array of arrays");
    }
    JsonArray ma = m.getAsJsonArray();
    double[][] mu = new double[ma.size()][];
    for (int i = 0; i < ma.size(); i++) {
      if (!ma.get(i).isJsonArray()) {
        throw new IllegalArgumentException("model JSON means[" + i + "] must be an array, got " + ma.get(i));
      }
      mu[i] = numbers(ma.get(i).getAsJsonArray(), "means[" + i + "]");
    }
    return new GaussianMixture(w, mu, s);
  }

  private static double[] vector(JsonObject o, String name) {
    JsonElement e = o.get(name);
    if (e == null || !e.isJsonArray()) {
      throw new IllegalArgumentException("model JSON field \"" + name + "\" must be an array of numbers, got "
          + JsonText.kind(e));
    }
    return numbers(e.getAsJsonArray(), name);
  }

  private static double[] numbers(JsonArray a, String name) {
    double[] v = new double[a.size()];
    for (int i = 0; i < v.length; i++) {
      JsonElement x = a.get(i);
      if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
        throw new IllegalArgumentException("model JSON " + name + "[" + i + "] must be a number, got "
            + JsonText.kind(x));
      }
      v[i] = x.getAsDouble();
    }
    return v;
  }

  /** The JSON form. */
  public String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("type", "gaussian-mixture");
    Gson g = new Gson();
    o.add("weights", g.toJsonTree(weights));
    o.add("means", g.toJsonTree(means));
    o.add("stds", g.toJsonTree(stds));
    return o.toString();
  }

  /** Data dimension d. */
  public int dim() {
    return dim;
  }

  /** Number of components. */
  public int components() {
    return weights.length;
  }

  /** Normalised weights. */
  public double[] weights() {
    return weights.clone();
  }

  /** Component means. */
  public double[][] means() {
    double[][] m = new double[means.length][];
    for (int i = 0; i < m.length; i++) {
      m[i] = means[i].clone();
    }
    return m;
  }

  /** Component stds. */
  public double[] stds() {
    return stds.clone();
  }

  /** Responsibilities r_k(x̂) of one point at noise level σ, into {@code r}. */
  private void responsibilities(double[] x, int off, double sigma, double[] r) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < weights.length; k++) {
      double v = stds[k] * stds[k] + sigma * sigma;
      double d2 = 0;
      for (int j = 0; j < dim; j++) {
        double u = x[off + j] - means[k][j];
        d2 += u * u;
      }
      double lp = weights[k] == 0 ? Double.NEGATIVE_INFINITY
          : Math.log(weights[k]) - 0.5 * d2 / v - 0.5 * dim * Math.log(v);
      r[k] = lp;
      max = Math.max(max, lp);
    }
    double z = 0;
    for (int k = 0; k < weights.length; k++) {
      r[k] = Math.exp(r[k] - max);
      z += r[k];
    }
    for (int k = 0; k < weights.length; k++) {
      r[k] /= z;
    }
  }

  /** The component with the largest responsibility r_k(x̂) for one point {@code x} (length d) at σ &gt; 0. */
  public int mostResponsible(double[] x, double sigma) {
    double[] r = new double[weights.length];
    responsibilities(x, 0, sigma, r);
    int best = 0;
    for (int k = 1; k < r.length; k++) {
      if (r[k] > r[best]) {
        best = k;
      }
    }
    return best;
  }

  /** Exact {@code D(x̂; σ)} for n points stored row-major in {@code x} (length n·d). */
  public double[] denoise(double[] x, double sigma) {
    if (sigma == 0) {
      return x.clone();
    }
    double[] out = new double[x.length];
    double[] r = new double[weights.length];
    double s2 = sigma * sigma;
    for (int off = 0; off < x.length; off += dim) {
      responsibilities(x, off, sigma, r);
      for (int k = 0; k < weights.length; k++) {
        double v = stds[k] * stds[k] + s2;
        double a = r[k] * stds[k] * stds[k] / v;
        double b = r[k] * s2 / v;
        for (int j = 0; j < dim; j++) {
          out[off + j] += a * x[off + j] + b * means[k][j];
        }
      }
    }
    return out;
  }

  /** Exact score {@code ∇ log p_σ(x̂) = Σ r_k (μ_k − x̂)/(s_k² + σ²)}, finite at σ = 0 when all s_k &gt; 0. */
  public double[] score(double[] x, double sigma) {
    double[] out = new double[x.length];
    double[] r = new double[weights.length];
    for (int off = 0; off < x.length; off += dim) {
      responsibilities(x, off, sigma, r);
      for (int k = 0; k < weights.length; k++) {
        double v = stds[k] * stds[k] + sigma * sigma;
        for (int j = 0; j < dim; j++) {
          out[off + j] += r[k] * (means[k][j] - x[off + j]) / v;
        }
      }
    }
    return out;
  }

  /** Exact {@code log p_σ(x̂)} per point. */
  public double[] logDensity(double[] x, double sigma) {
    int n = x.length / dim;
    double[] out = new double[n];
    for (int p = 0; p < n; p++) {
      double max = Double.NEGATIVE_INFINITY;
      double[] lp = new double[weights.length];
      for (int k = 0; k < weights.length; k++) {
        double v = stds[k] * stds[k] + sigma * sigma;
        double d2 = 0;
        for (int j = 0; j < dim; j++) {
          double u = x[p * dim + j] - means[k][j];
          d2 += u * u;
        }
        lp[k] = weights[k] == 0 ? Double.NEGATIVE_INFINITY
            : Math.log(weights[k]) - 0.5 * d2 / v - 0.5 * dim * Math.log(2 * Math.PI * v);
        max = Math.max(max, lp[k]);
      }
      double z = 0;
      for (double l : lp) {
        z += Math.exp(l - max);
      }
      out[p] = max + Math.log(z);
    }
    return out;
  }

  /** The PF-ODE in EDM coordinates, {@code dx̂/dσ = (x̂ − D)/σ = −σ ∇log p_σ(x̂)}; exact at σ = 0. */
  public double[] pfOdeDerivative(double[] x, double sigma) {
    double[] g = score(x, sigma);
    for (int i = 0; i < g.length; i++) {
      g[i] *= -sigma;
    }
    return g;
  }

  /** Mean of p_σ (the same for every σ). */
  public double[] mean() {
    double[] m = new double[dim];
    for (int k = 0; k < weights.length; k++) {
      for (int j = 0; j < dim; j++) {
        m[j] += weights[k] * means[k][j];
      }
    }
    return m;
  }

  /** Per-coordinate variance of p_σ: {@code Σπ(s²+σ²) + Σπ μ_j² − m_j²}. */
  public double[] variance(double sigma) {
    double[] m = mean();
    double[] v = new double[dim];
    for (int k = 0; k < weights.length; k++) {
      for (int j = 0; j < dim; j++) {
        v[j] += weights[k] * (stds[k] * stds[k] + sigma * sigma + means[k][j] * means[k][j]);
      }
    }
    for (int j = 0; j < dim; j++) {
      v[j] -= m[j] * m[j];
    }
    return v;
  }

  /** Exact samples of p_σ, sample i drawn from its own generator seeded by {@code seeds[i]}. */
  public double[] sample(long[] seeds, double sigma) {
    double[] out = new double[seeds.length * dim];
    for (int i = 0; i < seeds.length; i++) {
      SplittableRandom rng = new SplittableRandom(seeds[i] ^ 0x5DEECE66DL);
      int k = component(rng);
      double sd = Math.sqrt(stds[k] * stds[k] + sigma * sigma);
      for (int j = 0; j < dim; j++) {
        out[i * dim + j] = means[k][j] + sd * rng.nextGaussian();
      }
    }
    return out;
  }

  /** The component each seed's sample of {@link #sample} is drawn from (its class, for labelled data). */
  public int[] components(long[] seeds) {
    int[] k = new int[seeds.length];
    for (int i = 0; i < seeds.length; i++) {
      k[i] = component(new SplittableRandom(seeds[i] ^ 0x5DEECE66DL));
    }
    return k;
  }

  private int component(SplittableRandom rng) {
    double u = rng.nextDouble();
    int k = 0;
    double c = weights[0];
    while (u >= c && k < weights.length - 1) {
      k++;
      c += weights[k];
    }
    return k;
  }

  /**
   * The exact denoiser as a {@link Denoiser} on NDArrays (computed in double, returned in x's dtype),
   * with a σ per sample; it takes no conditioning.
   */
  public Denoiser denoiser() {
    return (x, sigma, c) -> {
      Shape shape = x.getShape();
      if (shape.dimension() != 2 || shape.get(1) != dim) {
        throw new IllegalArgumentException(
            "state shape " + shape + " does not match the model's dimension " + dim + " (expected [n, " + dim + "])");
      }
      int n = Math.toIntExact(shape.get(0));
      Denoiser.checkSigma(sigma, n);
      if (!c.isEmpty()) {
        throw new IllegalArgumentException("a Gaussian mixture is unconditional, got " + c);
      }
      double[] all = x.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
      double[] d;
      boolean equal = true;
      for (double s : sigma) {
        equal &= s == sigma[0];
      }
      if (equal) {
        d = denoise(all, sigma[0]);
      } else {
        d = new double[all.length];
        for (int i = 0; i < n; i++) {
          double[] row = denoise(java.util.Arrays.copyOfRange(all, i * dim, (i + 1) * dim), sigma[i]);
          System.arraycopy(row, 0, d, i * dim, dim);
        }
      }
      NDArray out = x.getManager().create(d, shape);
      return out.getDataType() == x.getDataType() ? out : out.toType(x.getDataType(), false);
    };
  }
}
