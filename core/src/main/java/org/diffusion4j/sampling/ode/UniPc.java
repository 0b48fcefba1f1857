package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * UniPC: the unified multistep predictor–corrector with data prediction (Zhao et al. 2023, Algorithms
 * 2–3, B(h) variants), as diffusers' {@code UniPCMultistepScheduler} with
 * {@code predict_x0 = true} and no {@code solver_p}, in its λ/t form over the process:
 * {@code α_i = grid.alpha(i)}, {@code σ_i = grid.sigmaAbs(i)}, {@code λ_i = log(α_i/σ_i)}, x0 from
 * {@code D(x/α; σ_rel)}.
 *
 * <p>With {@code h = λ_t − λ_s}, {@code z = −h}, {@code r_k = (λ_{s−k} − λ_s)/h},
 * {@code D1_k = (x0_{s−k} − x0_s)/r_k}: predictor UniP-p
 * {@code x_t = (σ_t/σ_s) x_s − α_t(e^z − 1) x0_s − α_t B(h) Σ_{k<p} ρ_k D1_k}; corrector UniC-p adds the
 * model output at the predicted {@code x_t} itself, {@code − α_t B(h)(Σ_{k<p} ρ_k D1_k + ρ_p (x0_t − x0_s))},
 * and that output is reused by the next predictor, so NFE = steps. ρ solves {@code R ρ = b},
 * {@code R_{jk} = r_k^j}, {@code b_j = (j+1)!·z·φ_{j+2}(z)/B(h)}; diffusers' shortcuts ρ = ½ for UniP-2
 * and UniC-1 are kept. {@code B(h) = z} (bh1) or {@code e^z − 1} (bh2). The k-th step uses order
 * {@code min(order, k+1)} (warm-up) and, with lower-order-final, {@code min(·, N − k)}; the final result
 * is not corrected. The last step to σ = 0 (λ = +∞) is an explicit first-order branch that lands on
 * {@code α·x0}, whatever the order (higher orders diverge there). UniP-2 bh2 without corrector is
 * DPM-Solver++(2M); UniP-1 is DDIM.
 *
 * @param order predictor order p in 1..3 (default 2; accuracy p+1 with the corrector)
 * @param variant {@code bh1} or {@code bh2} (default bh2; bh1 suggested for &lt; 10 unguided steps)
 * @param lowerOrderFinal lower the order on the final steps (default true)
 * @param corrector apply UniC (default true)
 * @param disableCorrector step indices k whose predicted result is not corrected (diffusers'
 *     {@code disable_corrector}; default none)
 */
public record UniPc(int order, String variant, boolean lowerOrderFinal, boolean corrector,
    List<Integer> disableCorrector) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("unipc", false,
      "UniPC multistep predictor-corrector, data prediction (Zhao et al. 2023; diffusers "
          + "UniPCMultistepScheduler); order p+1 with the corrector, 1 NFE/step",
      List.of(ParamSpec.number("order", "2", "predictor order p", ParamRange.ints(1, 3)),
          new ParamSpec("variant", "bh2", "B(h) variant: bh1 or bh2"),
          new ParamSpec("lower-order-final", "true", "lower the order on the final steps: true or false"),
          new ParamSpec("corrector", "true", "apply the UniC corrector: true or false"),
          new ParamSpec("disable-corrector", "", "comma-separated step indices (>= 0) not corrected")),
      p -> new UniPc(p.getInt("order"), p.getChoice("variant", "bh1", "bh2"),
          p.getBoolean("lower-order-final"), p.getBoolean("corrector"),
          p.getIntList("disable-corrector", 0, Integer.MAX_VALUE)));

  public UniPc {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("parameter order of sampler 'unipc' must lie in [1, 3], got " + order);
    }
    if (!variant.equals("bh1") && !variant.equals("bh2")) {
      throw new IllegalArgumentException(
          "parameter variant of sampler 'unipc' must be one of bh1, bh2, got '" + variant + "'");
    }
    disableCorrector = List.copyOf(disableCorrector);
  }

  /** UniPC without disabled corrector steps. */
  public UniPc(int order, String variant, boolean lowerOrderFinal, boolean corrector) {
    this(order, variant, lowerOrderFinal, corrector, List.of());
  }

  @Override
  public String id() {
    return "unipc";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int n = grid.steps();
    NDArray x = x0;
    NDArray last = null;
    List<NDArray> outputs = new ArrayList<>();
    int lastOrder = 0;
    for (int i = 0; i < n; i++) {
      try (StepScope step = new StepScope()) {
        NDArray m = step.keep(model.denoise(x.div(grid.alpha(i)), grid.sigma(i)));
        if (last != null && corrector && !disableCorrector.contains(i - 1)) {
          // UniC: corrects x_i with the model output at the predicted x_i.
          NDArray corrected = step.keep(update(grid, i - 1, last, outputs, lastOrder, m));
          x.close();
          x = corrected;
        }
        outputs.add(0, m);
        if (outputs.size() > order) {
          outputs.remove(order).close();
        }
        int p = Math.min(lowerOrderFinal ? Math.min(order, n - i) : order, outputs.size());
        NDArray next;
        if (grid.sigma(i + 1) == 0) {
          // Last step: σ_next == 0 (λ = +∞), first order lands on α·x0.
          next = m.mul(grid.alpha(i + 1));
        } else {
          // UniP.
          next = update(grid, i, x, outputs, p, null);
        }
        step.keep(next);
        if (last != null && last != x0) {
          last.close();
        }
        last = x;
        x = next;
        lastOrder = p;
        SigmaSpace.notifyProcess(listener, grid, i, x, m);
      }
    }
    if (last != null && last != x0) {
      last.close();
    }
    outputs.forEach(NDArray::close);
    return x;
  }

  /**
   * One UniP-p step from grid point s to s + 1 ({@code mT == null}), or UniC-p of that step with the
   * model output {@code mT} at its end; {@code outputs.get(k)} is x0 at point s − k.
   */
  private NDArray update(Grid grid, int s, NDArray x, List<NDArray> outputs, int p, NDArray mT) {
    int t = s + 1;
    double h = grid.lambda(t) - grid.lambda(s);
    double z = -h;
    double[] rks = new double[p];
    for (int k = 1; k < p; k++) {
      rks[k - 1] = (grid.lambda(s - k) - grid.lambda(s)) / h;
    }
    rks[p - 1] = 1;
    double bH = variant.equals("bh2") ? Math.expm1(z) : z;
    double[] rhos = mT == null ? predictorRhos(rks, z, bH, p) : correctorRhos(rks, z, bH, p);
    NDArray m0 = outputs.get(0);
    NDArray out = x.mul(grid.sigmaAbs(t) / grid.sigmaAbs(s)).sub(m0.mul(grid.alpha(t) * Math.expm1(z)));
    NDArray res = null;
    for (int k = 1; k < p; k++) {
      NDArray term = outputs.get(k).sub(m0).mul(rhos[k - 1] / rks[k - 1]);
      res = res == null ? term : res.add(term);
    }
    if (mT != null) {
      NDArray term = mT.sub(m0).mul(rhos[p - 1]);
      res = res == null ? term : res.add(term);
    }
    return res == null ? out : out.sub(res.mul(grid.alpha(t) * bH));
  }

  /** UniP's ρ: ½ at p = 2 (diffusers' shortcut), else the leading (p−1)×(p−1) system. */
  private static double[] predictorRhos(double[] rks, double z, double bH, int p) {
    if (p == 1) {
      return new double[0];
    }
    if (p == 2) {
      return new double[] {0.5};
    }
    return solve(vandermonde(rks, p - 1), bVector(z, bH, p - 1));
  }

  /** UniC's ρ: ½ at p = 1 (diffusers' shortcut), else the full p×p system. */
  private static double[] correctorRhos(double[] rks, double z, double bH, int p) {
    if (p == 1) {
      return new double[] {0.5};
    }
    return solve(vandermonde(rks, p), bVector(z, bH, p));
  }

  /** {@code R_{jk} = r_k^j}, j, k &lt; n. */
  private static double[][] vandermonde(double[] rks, int n) {
    double[][] a = new double[n][n];
    for (int k = 0; k < n; k++) {
      double v = 1;
      for (int j = 0; j < n; j++) {
        a[j][k] = v;
        v *= rks[k];
      }
    }
    return a;
  }

  /** {@code b_j = (j+1)!·z·φ_{j+2}(z)/B(h)}, j &lt; n. */
  private static double[] bVector(double z, double bH, int n) {
    double[] b = new double[n];
    double fact = 1;
    for (int j = 0; j < n; j++) {
      fact *= j + 1;
      b[j] = fact * z * Phi.phi(j + 2, z) / bH;
    }
    return b;
  }

  /** Gaussian elimination with partial pivoting (n ≤ 3). */
  private static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    for (int c = 0; c < n; c++) {
      int piv = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) {
          piv = r;
        }
      }
      double[] row = a[c];
      a[c] = a[piv];
      a[piv] = row;
      double tb = b[c];
      b[c] = b[piv];
      b[piv] = tb;
      for (int r = c + 1; r < n; r++) {
        double f = a[r][c] / a[c][c];
        for (int k = c; k < n; k++) {
          a[r][k] -= f * a[c][k];
        }
        b[r] -= f * b[c];
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double v = b[r];
      for (int k = r + 1; k < n; k++) {
        v -= a[r][k] * x[k];
      }
      x[r] = v / a[r][r];
    }
    return x;
  }
}
