package org.diffusion4j.sampling.ode;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.schedule.Grid;

/**
 * The empirical model statistics (EMS) of DPM-Solver-v3 (Zheng, Lu, Chen, Zhu 2023, §3.1–3.2 and App. C):
 * per-dimension functions {@code ℓ_λ, s_λ, b_λ} of the half log-SNR {@code λ = −log σ}, given at increasing
 * knots and linear in between. They define the solver's parameterisation in the scaled state {@code x̂ = x/α}
 * (where the PF-ODE is {@code dx̂/dλ = D − x̂} for every process):
 * {@code f = (1 − ℓ) x̂ − D = e^{−λ}ε̂ − ℓ x̂} (the paper's {@code (σ_λ ε̂ − ℓ_λ x_λ)/α_λ}), and
 * {@code g = e^{−S} f − ∫ e^{−S} b}, {@code S = ∫ s}, which is nearly constant along trajectories when
 * {@code df/dλ ≈ s f + b}.
 *
 * <p>They depend on the model D(x̂; σ) and λ only, not on the process: one file serves every process and
 * grid whose σ's (except a final σ = 0) lie in its range {@link #sigmaMin()}..{@link #sigmaMax()}. Two
 * constant sets need no model: {@link #dataPrediction()} {@code (ℓ, s, b) = (1, 0, 0)}, under which the
 * solver is DPM-Solver++ (Lu et al. 2022b), and {@link #noisePrediction()} {@code (0, −1, 0)}, DPM-Solver
 * (Lu et al. 2022) — the special cases the paper names.
 *
 * @param lambdas the knots, strictly increasing; a single knot means constant statistics (any λ)
 * @param l ℓ at each knot, one value per dimension ({@code [knots][dim]}); dim 1 with {@code shape} null
 *     broadcasts to every dimension
 * @param s s at each knot
 * @param b b at each knot
 * @param shape the sample shape they were estimated for (null: any shape, constant statistics only)
 * @param source how they were made (model, samples, …), for the record
 */
public record ModelStatistics(double[] lambdas, double[][] l, double[][] s, double[][] b, long[] shape,
    String source) {
  /** The file's {@code format} field. */
  public static final String FORMAT = "dpm-solver-v3-statistics";

  public ModelStatistics {
    if (lambdas == null || lambdas.length < 1) {
      throw new IllegalArgumentException("statistics need at least one knot λ");
    }
    for (int k = 0; k < lambdas.length; k++) {
      if (!Double.isFinite(lambdas[k]) || (k > 0 && !(lambdas[k] > lambdas[k - 1]))) {
        throw new IllegalArgumentException("statistics knots λ must be finite and strictly increasing; knot " + k
            + " is " + lambdas[k] + (k > 0 ? " after " + lambdas[k - 1] : ""));
      }
    }
    int dim = shape == null ? 1 : Math.toIntExact(Arrays.stream(shape).reduce(1, (x, y) -> x * y));
    check("l", l, lambdas.length, dim);
    check("s", s, lambdas.length, dim);
    check("b", b, lambdas.length, dim);
    if (shape == null && lambdas.length != 1) {
      throw new IllegalArgumentException("statistics without a sample shape must be constant (one knot)");
    }
  }

  private static void check(String name, double[][] v, int knots, int dim) {
    if (v == null || v.length != knots) {
      throw new IllegalArgumentException("statistics \"" + name + "\" must have one row per knot (" + knots + "), got "
          + (v == null ? "none" : v.length));
    }
    for (int k = 0; k < knots; k++) {
      if (v[k] == null || v[k].length != dim) {
        throw new IllegalArgumentException("statistics \"" + name + "\" row " + k + " must have " + dim
            + " values (one per dimension), got " + (v[k] == null ? "none" : v[k].length));
      }
      for (int d = 0; d < dim; d++) {
        if (!Double.isFinite(v[k][d])) {
          throw new IllegalArgumentException("statistics \"" + name + "\" at knot " + k + ", dimension " + d
              + " is " + v[k][d] + "; every value must be finite");
        }
      }
    }
  }

  /** Constant statistics (ℓ, s, b) for every dimension and λ. */
  public static ModelStatistics constant(double l, double s, double b, String source) {
    return new ModelStatistics(new double[] {0}, new double[][] {{l}}, new double[][] {{s}}, new double[][] {{b}},
        null, source);
  }

  /** {@code (ℓ, s, b) = (1, 0, 0)}: g = −D, the data prediction; the solver is DPM-Solver++. */
  public static ModelStatistics dataPrediction() {
    return constant(1, 0, 0, "data prediction (l = 1, s = 0, b = 0): DPM-Solver++");
  }

  /** {@code (ℓ, s, b) = (0, −1, 0)}: g = e^{−λ_s} ε̂, the noise prediction; the solver is DPM-Solver. */
  public static ModelStatistics noisePrediction() {
    return constant(0, -1, 0, "noise prediction (l = 0, s = -1, b = 0): DPM-Solver");
  }

  /** Whether these are constant (no knots to cover). */
  public boolean isConstant() {
    return lambdas.length == 1;
  }

  /** Values per knot (1 for constant statistics). */
  public int dim() {
    return l[0].length;
  }

  /** Whether some b is non-zero (the solver skips the b integrals otherwise). */
  public boolean hasBias() {
    for (double[] row : b) {
      for (double v : row) {
        if (v != 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** The smallest σ = e^{−λ} covered (0 for constant statistics). */
  public double sigmaMin() {
    return isConstant() ? 0 : Math.exp(-lambdas[lambdas.length - 1]);
  }

  /** The largest σ covered (+∞ for constant statistics). */
  public double sigmaMax() {
    return isConstant() ? Double.POSITIVE_INFINITY : Math.exp(-lambdas[0]);
  }

  /** The value of {@code v} (one of l, s, b) at λ for dimension d, linear between knots. */
  double at(double[][] v, double lambda, int d) {
    int dd = v[0].length == 1 ? 0 : d;
    int n = lambdas.length;
    if (n == 1 || lambda <= lambdas[0]) {
      return v[0][dd];
    }
    if (lambda >= lambdas[n - 1]) {
      return v[n - 1][dd];
    }
    int k = cell(lambda);
    double w = (lambda - lambdas[k]) / (lambdas[k + 1] - lambdas[k]);
    return v[k][dd] + w * (v[k + 1][dd] - v[k][dd]);
  }

  /** The cell k with {@code lambdas[k] ≤ λ < lambdas[k+1]} (λ inside the knots). */
  int cell(double lambda) {
    int k = Arrays.binarySearch(lambdas, lambda);
    if (k >= 0) {
      return Math.min(k, lambdas.length - 2);
    }
    return -k - 2;
  }

  /**
   * Checks that these statistics fit a run: same number of values per sample as {@code sampleDim}, and every
   * grid σ &gt; 0 inside their σ range.
   *
   * @param name how to call them in the error (e.g. the file)
   */
  public void requireFits(Grid grid, long sampleDim, String name) {
    if (!isConstant() && dim() != sampleDim) {
      throw new IllegalArgumentException("dpm-solver-v3 statistics " + name + " are for samples of shape "
          + Arrays.toString(shape) + " (" + dim() + " values), but the samples have " + sampleDim
          + " values: estimate statistics for this model (d4j stats)");
    }
    if (isConstant()) {
      return;
    }
    double lo = lambdas[0];
    double hi = lambdas[lambdas.length - 1];
    for (int i = 0; i < grid.size(); i++) {
      if (grid.sigma(i) == 0) {
        continue;
      }
      double lam = grid.lambda(i);
      double tol = 1e-9 * (1 + Math.abs(lam));
      if (lam < lo - tol || lam > hi + tol) {
        throw new IllegalArgumentException("dpm-solver-v3 statistics " + name + " cover sigma "
            + String.format("%.6g", sigmaMin()) + " to " + String.format("%.6g", sigmaMax())
            + ", but the grid's point " + i + " has sigma " + String.format("%.6g", grid.sigma(i))
            + " (process " + grid.process().id() + "): estimate statistics over the grid's range "
            + "(d4j stats --sigma-min/--sigma-max) or use a grid inside it");
      }
    }
  }

  /** The statistics as JSON ({@link #FORMAT}, version 1). */
  public String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("format", FORMAT);
    o.addProperty("version", 1);
    o.addProperty("source", source == null ? "" : source);
    JsonArray sh = new JsonArray();
    if (shape != null) {
      for (long v : shape) {
        sh.add(v);
      }
    }
    o.add("shape", shape == null ? null : sh);
    o.addProperty("sigma_min", sigmaMin());
    o.addProperty("sigma_max", isConstant() ? 0 : sigmaMax());
    o.add("lambdas", row(lambdas));
    o.add("l", rows(l));
    o.add("s", rows(s));
    o.add("b", rows(b));
    return o.toString();
  }

  private static JsonArray row(double[] v) {
    JsonArray a = new JsonArray();
    for (double x : v) {
      a.add(new JsonPrimitive(x));
    }
    return a;
  }

  private static JsonArray rows(double[][] v) {
    JsonArray a = new JsonArray();
    for (double[] r : v) {
      a.add(row(r));
    }
    return a;
  }

  /** Writes {@link #toJson} atomically. */
  public void write(Path file) throws IOException {
    AtomicFiles.write(file, toJson().getBytes(StandardCharsets.UTF_8));
  }

  /** Reads a statistics file; every error names the file and the offending field. */
  public static ModelStatistics read(Path file) throws IOException {
    try {
      return fromJson(JsonText.readObject(file), file.toString());
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      throw new IllegalArgumentException(m.startsWith(file.toString()) ? m : file + ": " + m, e);
    }
  }

  /** Parses {@link #toJson}'s output. */
  public static ModelStatistics fromJson(String json) {
    return fromJson(JsonText.object(JsonText.parse(json, "statistics JSON"), "statistics JSON"), "statistics JSON");
  }

  private static ModelStatistics fromJson(JsonObject o, String where) {
    JsonElement f = o.get("format");
    if (f == null || !f.isJsonPrimitive() || !FORMAT.equals(f.getAsString())) {
      throw new IllegalArgumentException("field \"format\" must be \"" + FORMAT + "\" (a file written by d4j stats), got "
          + (f == null ? "nothing" : f.toString()));
    }
    JsonElement v = o.get("version");
    if (v == null || !v.isJsonPrimitive() || v.getAsDouble() != 1) {
      throw new IllegalArgumentException("field \"version\" must be 1, got " + (v == null ? "nothing" : v.toString()));
    }
    JsonElement sh = o.get("shape");
    if (sh == null || !sh.isJsonArray() || sh.getAsJsonArray().isEmpty()) {
      throw new IllegalArgumentException("field \"shape\" must be a non-empty array of sizes");
    }
    long[] shape = new long[sh.getAsJsonArray().size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = number(sh.getAsJsonArray().get(i), "shape").longValue();
      if (shape[i] < 1) {
        throw new IllegalArgumentException("field \"shape\" sizes must be >= 1, got " + shape[i]);
      }
    }
    double[] lambdas = vector(o.get("lambdas"), "lambdas");
    if (lambdas.length < 2) {
      throw new IllegalArgumentException("field \"lambdas\" must hold at least 2 knots, got " + lambdas.length);
    }
    JsonElement src = o.get("source");
    return new ModelStatistics(lambdas, matrix(o.get("l"), "l"), matrix(o.get("s"), "s"), matrix(o.get("b"), "b"),
        shape, src == null || !src.isJsonPrimitive() ? where : src.getAsString());
  }

  private static Number number(JsonElement e, String field) {
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw new IllegalArgumentException("field \"" + field + "\" must hold numbers, got "
          + (e == null ? "nothing" : e.toString()));
    }
    return e.getAsNumber();
  }

  private static double[] vector(JsonElement e, String field) {
    if (e == null || !e.isJsonArray()) {
      throw new IllegalArgumentException("field \"" + field + "\" must be an array of numbers");
    }
    JsonArray a = e.getAsJsonArray();
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(a.get(i), field).doubleValue();
    }
    return out;
  }

  private static double[][] matrix(JsonElement e, String field) {
    if (e == null || !e.isJsonArray()) {
      throw new IllegalArgumentException("field \"" + field + "\" must be an array of arrays (one per knot)");
    }
    JsonArray a = e.getAsJsonArray();
    double[][] out = new double[a.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = vector(a.get(i), field);
    }
    return out;
  }
}
