package org.diffusion4j.analytic;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Arrays;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.NoisyClassifier;

/**
 * A Gaussian mixture whose components carry class labels, with the class-conditional model and the
 * noisy classifier in closed form: the data of class y is the mixture restricted to the components
 * labelled y, so its denoiser is {@link GaussianMixture#denoise} of that sub-mixture, and
 * {@code p(y | x̂, σ) = Σ_{k: label k = y} r_k(x̂, σ)} with the responsibilities
 * {@code r_k ∝ π_k N(x̂; μ_k, (s_k² + σ²) I)}. Its input gradient is
 * {@code ∇log p(y|x̂) = Σ_{k∈y} r̃_k g_k − Σ_k r_k g_k} with {@code g_k = (μ_k − x̂)/(s_k² + σ²)} and r̃ the
 * responsibilities renormalised within y — the exact oracles for classifier-free and classifier
 * guidance (with w = 1 both must give the conditional denoiser).
 *
 * <p>JSON: the mixture's form with an optional {@code "labels": [...]} (one class per component;
 * default: each component its own class).
 */
public final class LabelledMixture {
  private final GaussianMixture mixture;
  private final int[] labels;
  private final int classes;
  private final GaussianMixture[] perClass;

  /**
   * @param mixture the mixture
   * @param labels the class of each component, each ≥ 0; every class 0 … K−1 must own a component
   */
  public LabelledMixture(GaussianMixture mixture, int[] labels) {
    this.mixture = mixture;
    if (labels.length != mixture.components()) {
      throw new IllegalArgumentException("the mixture has " + mixture.components() + " components but "
          + labels.length + " labels; give one class per component");
    }
    int k = 0;
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0) {
        throw new IllegalArgumentException("labels[" + i + "] = " + labels[i] + " must be >= 0");
      }
      k = Math.max(k, labels[i] + 1);
    }
    this.labels = labels.clone();
    this.classes = k;
    this.perClass = new GaussianMixture[k];
    double[] w = mixture.weights();
    double[][] mu = mixture.means();
    double[] s = mixture.stds();
    for (int c = 0; c < k; c++) {
      int m = 0;
      for (int l : labels) {
        m += l == c ? 1 : 0;
      }
      if (m == 0) {
        throw new IllegalArgumentException("class " + c + " has no component; labels must use every class 0.."
            + (k - 1));
      }
      double[] wc = new double[m];
      double[][] muc = new double[m][];
      double[] sc = new double[m];
      int j = 0;
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == c) {
          wc[j] = w[i];
          muc[j] = mu[i];
          sc[j] = s[i];
          j++;
        }
      }
      boolean positive = false;
      for (double v : wc) {
        positive |= v > 0;
      }
      // A class of zero weight has no data: it cannot be sampled or guided towards.
      perClass[c] = positive ? new GaussianMixture(wc, muc, sc) : null;
    }
  }

  /** Each component its own class. */
  public static LabelledMixture byComponent(GaussianMixture mixture) {
    int[] l = new int[mixture.components()];
    for (int i = 0; i < l.length; i++) {
      l[i] = i;
    }
    return new LabelledMixture(mixture, l);
  }

  /** The mixture JSON with optional {@code "labels"}; errors name the field. */
  public static LabelledMixture fromJson(String json) {
    GaussianMixture g = GaussianMixture.fromJson(json);
    JsonElement l = JsonParser.parseString(json).getAsJsonObject().get("labels");
    if (l == null) {
      return byComponent(g);
    }
    if (!l.isJsonArray()) {
      throw new IllegalArgumentException("model JSON field \"labels\" must be an array of class numbers");
    }
    JsonArray a = l.getAsJsonArray();
    int[] labels = new int[a.size()];
    for (int i = 0; i < labels.length; i++) {
      JsonElement e = a.get(i);
      double v = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() ? e.getAsDouble() : Double.NaN;
      if (!(v >= 0) || v != Math.rint(v) || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("model JSON labels[" + i + "] must be an integer >= 0, got " + e);
      }
      labels[i] = (int) v;
    }
    return new LabelledMixture(g, labels);
  }

  /** The JSON form (the mixture's with {@code "labels"}). */
  public String toJson() {
    JsonObject o = JsonParser.parseString(mixture.toJson()).getAsJsonObject();
    JsonArray a = new JsonArray();
    for (int l : labels) {
      a.add(l);
    }
    o.add("labels", a);
    return o.toString();
  }

  /** The whole (unconditional) mixture. */
  public GaussianMixture mixture() {
    return mixture;
  }

  /** Number of classes K. */
  public int classes() {
    return classes;
  }

  /** The class of each component. */
  public int[] labels() {
    return labels.clone();
  }

  /** The data of class {@code y}: the mixture restricted to its components (weights renormalised). */
  public GaussianMixture ofClass(int y) {
    if (y < 0 || y >= classes) {
      throw new IllegalArgumentException("class " + y + " is not a class of the mixture; accepted 0.." + (classes - 1));
    }
    if (perClass[y] == null) {
      throw new IllegalArgumentException("class " + y + " of the mixture has zero weight");
    }
    return perClass[y];
  }

  /** Exact samples of class {@code y} at noise level σ, one seed each (as {@link GaussianMixture#sample}). */
  public double[] sample(int y, long[] seeds, double sigma) {
    return ofClass(y).sample(seeds, sigma);
  }

  /**
   * The exact class-conditional denoiser {@code E[x0 | x̂, y]}: each row's label picks its class;
   * {@link Conditioning#NULL_LABEL} (or no labels at all) gives the whole mixture's denoiser — a
   * perfectly trained classifier-free-guidance model.
   */
  public Denoiser denoiser() {
    int dim = mixture.dim();
    return (x, sigma, c) -> {
      int n = checkShape(x, dim);
      Denoiser.checkSigma(sigma, n);
      c.requireSize(n);
      long[] y = c.labels();
      double[] all = x.toType(DataType.FLOAT64, false).toDoubleArray();
      double[] d = new double[all.length];
      for (int i = 0; i < n; i++) {
        long l = y == null ? Conditioning.NULL_LABEL : y[i];
        if (l != Conditioning.NULL_LABEL && (l < 0 || l >= classes)) {
          throw new IllegalArgumentException("class " + l + " of sample " + i + " is not a class of the mixture; "
              + "accepted 0.." + (classes - 1) + " or " + Conditioning.NULL_LABEL + " for none");
        }
        GaussianMixture g = l == Conditioning.NULL_LABEL ? mixture : ofClass((int) l);
        double[] row = g.denoise(Arrays.copyOfRange(all, i * dim, (i + 1) * dim), sigma[i]);
        System.arraycopy(row, 0, d, i * dim, dim);
      }
      return like(x, d);
    };
  }

  /** The exact noisy classifier {@code p(y | x̂, σ)} of the mixture. */
  public NoisyClassifier classifier() {
    return new NoisyClassifier() {
      @Override
      public int classes() {
        return classes;
      }

      @Override
      public double[] logProb(NDArray x, double[] sigma, long[] y) {
        int n = checkShape(x, mixture.dim());
        Denoiser.checkSigma(sigma, n);
        NoisyClassifier.checkLabels(y, classes, n);
        double[] all = x.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] out = new double[n];
        int dim = mixture.dim();
        for (int i = 0; i < n; i++) {
          double[] row = Arrays.copyOfRange(all, i * dim, (i + 1) * dim);
          out[i] = ofClass((int) y[i]).logDensity(row, sigma[i])[0] + Math.log(classWeight((int) y[i]))
              - mixture.logDensity(row, sigma[i])[0];
        }
        return out;
      }

      @Override
      public NDArray logProbGradient(NDArray x, double[] sigma, long[] y) {
        int n = checkShape(x, mixture.dim());
        Denoiser.checkSigma(sigma, n);
        NoisyClassifier.checkLabels(y, classes, n);
        double[] all = x.toType(DataType.FLOAT64, false).toDoubleArray();
        double[] g = new double[all.length];
        int dim = mixture.dim();
        for (int i = 0; i < n; i++) {
          double[] row = Arrays.copyOfRange(all, i * dim, (i + 1) * dim);
          double[] sc = ofClass((int) y[i]).score(row, sigma[i]);
          double[] su = mixture.score(row, sigma[i]);
          for (int j = 0; j < dim; j++) {
            g[i * dim + j] = sc[j] - su[j];
          }
        }
        return like(x, g);
      }
    };
  }

  /** The prior p(y): the summed weights of the class's components. */
  public double classWeight(int y) {
    double[] w = mixture.weights();
    double t = 0;
    for (int i = 0; i < labels.length; i++) {
      t += labels[i] == y ? w[i] : 0;
    }
    return t;
  }

  private static int checkShape(NDArray x, int dim) {
    Shape shape = x.getShape();
    if (shape.dimension() != 2 || shape.get(1) != dim) {
      throw new IllegalArgumentException(
          "state shape " + shape + " does not match the model's dimension " + dim + " (expected [n, " + dim + "])");
    }
    return Math.toIntExact(shape.get(0));
  }

  private static NDArray like(NDArray x, double[] values) {
    NDArray out = x.getManager().create(values, x.getShape());
    return out.getDataType() == x.getDataType() ? out : out.toType(x.getDataType(), false);
  }
}
