package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * DPM-Solver-v3 (Zheng, Lu, Chen, Zhu 2023, "DPM-Solver-v3: Improved Diffusion ODE Solver with Empirical Model
 * Statistics"): the multistep predictor (§3.3) and corrector (§3.4, Fig. 2b) in the parameterisation
 * that the {@link ModelStatistics} ℓ, s, b define, on the scaled state {@code x̂ = x/α}.
 *
 * <p>With {@code f_j = (1 − ℓ_j) x̂_j − D_j} at the points used, {@code L, S, B} the integrals of
 * {@link EmsIntegrals} from λ_s, and {@code g_j = e^{−S(λ_j)} f_j − B(λ_j)} (so {@code g_s = f_s}), a step from s
 * to t is the exact variation-of-constants solution with g replaced by its Taylor polynomial in λ − λ_s:
 * {@code x̂_t = e^{−L(λ_t)} [x̂_s − ∫e^{L+S}B − Σ_k c_k ∫e^{L+S}(λ − λ_s)^k]}, {@code c_0 = g_s} and
 * {@code c_1..c_n} from the Vandermonde system {@code Σ_k c_k δ_j^k = g_j − g_s}, {@code δ_j = λ_j − λ_s}
 * (§3.3, the paper's {@code R_n}). The predictor of order k uses s and the k − 1 previous points
 * (warm-up 1, 2, …; with {@code lower-order-final} and fewer than 10 steps at most {@code steps − i} at
 * step i, as DPM-Solver's multistep). The corrector, after the model call at t, redoes the step with the
 * points s, t and the predictor's older points (order k + 1) and keeps {@code f_t} — the paper's choice, for
 * which ℓ makes f least sensitive to x̂ — so it costs no NFE. The step to σ = 0 returns the x0-estimate.
 *
 * <p>Measured on the exact mixtures of the sampler benchmark, the corrector pays with estimated statistics (2–4×
 * lower error at 5–10 NFE) but not with the constant ones, whose order-(k + 1) correction over the long first
 * steps of a few-step grid overshoots; so the registry's {@code corrector=auto} applies it with a statistics file
 * only.
 *
 * <p>Under {@link ModelStatistics#dataPrediction()} the predictor is DPM-Solver++ in its Taylor form
 * (multistep order 2 = {@code dpm-solver algorithm=dpmsolver++ variant=taylor}, order 3 =
 * {@code dpmpp-3m variant=taylor}); under {@link ModelStatistics#noisePrediction()} it is DPM-Solver's.
 *
 * @param order predictor order 1..3
 * @param corrector whether to apply the corrector
 * @param lowerOrderFinal lower orders on the last steps when steps &lt; 10
 * @param stats the statistics
 * @param statsName how to name them in messages (a file, {@code data}, {@code noise})
 */
public record DpmSolverV3(int order, boolean corrector, boolean lowerOrderFinal, ModelStatistics stats,
    String statsName) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-solver-v3", false,
      "DPM-Solver-v3, multistep predictor-corrector in the parameterisation of empirical model statistics "
          + "(Zheng et al. 2023); 1 NFE/step",
      List.of(new ParamSpec("stats", "data", "statistics: a file from d4j stats, or data (l=1, s=b=0: "
          + "DPM-Solver++) or noise (l=0, s=-1, b=0: DPM-Solver)"),
          ParamSpec.number("order", "2", "predictor order", ParamRange.ints(1, 3)),
          new ParamSpec("corrector", "auto", "corrector after each model call (no extra NFE): true, false, or auto "
              + "(true with a statistics file; false for data/noise, which are then DPM-Solver++/DPM-Solver)"),
          new ParamSpec("lower-order-final", "true", "lower orders on the final steps when steps < 10")),
      DpmSolverV3::create);

  public DpmSolverV3 {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order of sampler 'dpm-solver-v3' must lie in [1, 3], got " + order);
    }
    if (stats == null) {
      throw new IllegalArgumentException("dpm-solver-v3 needs statistics");
    }
  }

  /** The predictor alone with these statistics and {@code lower-order-final}. */
  public DpmSolverV3(int order, ModelStatistics stats) {
    this(order, false, true, stats, "given");
  }

  private static DpmSolverV3 create(SamplerParams p) {
    ModelStatistics st = statistics(p.getString("stats"));
    String c = p.getChoice("corrector", "auto", "true", "false");
    boolean corrector = c.equals("auto") ? !st.isConstant() : c.equals("true");
    return new DpmSolverV3(p.getInt("order"), corrector, p.getBoolean("lower-order-final"), st, p.getString("stats"));
  }

  /** {@code data}, {@code noise} or a statistics file. */
  public static ModelStatistics statistics(String spec) {
    if (spec.equals("data")) {
      return ModelStatistics.dataPrediction();
    }
    if (spec.equals("noise")) {
      return ModelStatistics.noisePrediction();
    }
    Path file = Path.of(spec);
    if (!Files.exists(file)) {
      throw new IllegalArgumentException("parameter stats of sampler 'dpm-solver-v3': no file '" + spec
          + "'; accepted: data, noise, or a statistics file written by d4j stats");
    }
    try {
      return ModelStatistics.read(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("parameter stats of sampler 'dpm-solver-v3': no file '" + spec + "'");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read dpm-solver-v3 statistics " + spec + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String id() {
    return "dpm-solver-v3";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    Shape sample = x0.getShape().slice(1);
    stats.requireFits(grid, sample.size(), statsName);
    Shape coeffShape = stats.isConstant() ? new Shape(1) : sample;
    Plan plan = new Plan(grid);
    int n = grid.steps();
    NDArray y = SigmaSpace.enter(x0, grid);
    NDArray yPrev = null;
    List<NDArray> fs = new ArrayList<>(); // f at points i, i−1, … (newest first)
    int prevK = 0;
    try {
      for (int i = 0; i < n; i++) {
        try (StepScope step = new StepScope()) {
          NDArray denoised = model.denoise(y, grid.sigma(i));
          NDArray oneMinusL = vec(plan.oneMinusL(i), y, coeffShape);
          NDArray f = step.keep(y.mul(oneMinusL).sub(denoised));
          if (corrector && prevK > 0) {
            // Redo the step from i − 1 with the points i − 1, i and the predictor's older ones; f_i is kept.
            int[] pts = new int[prevK + 1];
            List<NDArray> pf = new ArrayList<>();
            pts[0] = i - 1;
            pf.add(fs.get(0));
            pts[1] = i;
            pf.add(f);
            for (int j = 2; j <= prevK; j++) {
              pts[j] = i - j;
              pf.add(fs.get(j - 1));
            }
            NDArray corrected = step.keep(update(plan, yPrev, pts, pf, i, y, coeffShape));
            y.close();
            y = corrected;
            denoised = y.mul(oneMinusL).sub(f);
          }
          fs.add(0, f);
          if (fs.size() > order + 1) {
            fs.remove(fs.size() - 1).close();
          }
          int k = Math.min(order, i + 1);
          if (lowerOrderFinal && n < DpmSolver.LOWER_ORDER_FINAL_BELOW) {
            k = Math.min(k, n - i);
          }
          NDArray next;
          if (grid.sigma(i + 1) == 0) {
            // The step to σ = 0 (λ = ∞): the x0-estimate.
            next = denoised.duplicate();
            k = 0;
          } else {
            int[] pts = new int[k];
            for (int j = 0; j < k; j++) {
              pts[j] = i - j;
            }
            next = update(plan, y, pts, fs.subList(0, k), i + 1, y, coeffShape);
          }
          step.keep(next);
          if (yPrev != null) {
            yPrev.close();
          }
          yPrev = y;
          y = next;
          prevK = k;
          SigmaSpace.notify(listener, grid, i, y, denoised);
        }
      }
    } finally {
      fs.forEach(NDArray::close);
      if (yPrev != null) {
        yPrev.close();
      }
    }
    return SigmaSpace.leave(y, grid);
  }

  /**
   * One step from point {@code pts[0]} (state {@code ys}) to point {@code t} with the f's at {@code pts}.
   */
  private NDArray update(Plan plan, NDArray ys, int[] pts, List<NDArray> f, int t, NDArray like, Shape cs) {
    int s = pts[0];
    int nd = pts.length - 1;
    EmsIntegrals.Segment step = plan.segment(s, t, nd);
    NDArray e = vec(exp(step.lRel(), -1), like, cs);
    NDArray acc = ys.sub(f.get(0).mul(vec(step.k()[0], like, cs)));
    if (stats.hasBias()) {
      acc = acc.sub(vec(step.p(), like, cs));
    }
    if (nd > 0) {
      double[] delta = new double[nd];
      NDArray[] dg = new NDArray[nd];
      for (int j = 1; j <= nd; j++) {
        delta[j - 1] = plan.lambda(pts[j]) - plan.lambda(s);
        EmsIntegrals.Segment back = plan.segment(s, pts[j], -1);
        NDArray g = f.get(j).mul(vec(exp(back.sRel(), -1), like, cs));
        if (stats.hasBias()) {
          g = g.sub(vec(back.bRel(), like, cs));
        }
        dg[j - 1] = g.sub(f.get(0));
      }
      double[][] w = inverseVandermonde(delta);
      for (int kk = 1; kk <= nd; kk++) {
        NDArray c = dg[0].mul(w[kk - 1][0]);
        for (int j = 1; j < nd; j++) {
          c = c.add(dg[j].mul(w[kk - 1][j]));
        }
        acc = acc.sub(c.mul(vec(step.k()[kk], like, cs)));
      }
    }
    return acc.mul(e);
  }

  /** W with {@code c = W·(g_j − g_s)} solving {@code Σ_k c_k δ_j^k = g_j − g_s} (k, j = 1..n). */
  static double[][] inverseVandermonde(double[] delta) {
    int n = delta.length;
    double[][] a = new double[n][2 * n];
    for (int j = 0; j < n; j++) {
      double pw = 1;
      for (int k = 0; k < n; k++) {
        pw *= delta[j];
        a[j][k] = pw;
      }
      a[j][n + j] = 1;
    }
    for (int col = 0; col < n; col++) {
      int piv = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
          piv = r;
        }
      }
      double[] tmp = a[col];
      a[col] = a[piv];
      a[piv] = tmp;
      double d = a[col][col];
      for (int c = 0; c < 2 * n; c++) {
        a[col][c] /= d;
      }
      for (int r = 0; r < n; r++) {
        if (r != col && a[r][col] != 0) {
          double m = a[r][col];
          for (int c = 0; c < 2 * n; c++) {
            a[r][c] -= m * a[col][c];
          }
        }
      }
    }
    // Row k of the inverse of R (R_{jk} = δ_j^k) maps (g_j − g_s)_j to c_k.
    double[][] w = new double[n][n];
    for (int k = 0; k < n; k++) {
      System.arraycopy(a[k], n, w[k], 0, n);
    }
    return w;
  }

  private static double[] exp(double[] v, double sign) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Math.exp(sign * v[i]);
    }
    return out;
  }

  private static NDArray vec(double[] v, NDArray like, Shape shape) {
    return like.getManager().create(v, shape).toType(like.getDataType(), false);
  }

  /** The run's λ's and the integrals between its points, each computed once. */
  private final class Plan {
    private final Grid grid;
    private final Map<Long, EmsIntegrals.Segment> cache = new HashMap<>();

    Plan(Grid grid) {
      this.grid = grid;
    }

    double lambda(int i) {
      return grid.lambda(i);
    }

    double[] oneMinusL(int i) {
      double[] v = new double[stats.dim()];
      for (int d = 0; d < v.length; d++) {
        v[d] = 1 - stats.at(stats.l(), grid.lambda(i), d);
      }
      return v;
    }

    EmsIntegrals.Segment segment(int from, int to, int kmax) {
      long key = ((long) from * 1_000_003L + to) * 8 + (kmax + 1);
      return cache.computeIfAbsent(key, kk -> EmsIntegrals.integrate(stats, grid.lambda(from), grid.lambda(to), kmax));
    }
  }
}
