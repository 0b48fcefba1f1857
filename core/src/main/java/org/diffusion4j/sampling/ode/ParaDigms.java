package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.SampleResult;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * ParaDiGMS (Shih et al. 2023, "Parallel Sampling of Diffusion Models", Algorithm 1): Picard iterations
 * over a sliding window of p grid points, the window's denoiser evaluations made as one batched call.
 *
 * <p>A base ODE step {@code x̂_{j+1} = x̂_j + Δ_j(x̂_j)} on the PF-ODE in σ (Euler, the same as DDIM in x̂, or
 * Heun; Karras et al. 2022 eq. 4) is solved on the grid by fixed-point iteration instead of step by step.
 * With the window at points ℓ … e = min(ℓ + p, N), one call evaluates Δ_j at the current guesses x̂_j of all
 * its points (per-sample σ, the points stacked block by block along the batch), and the prefix sums
 * {@code y_{j+1} = y_j + Δ_j(x̂_j)}, {@code y_ℓ = x̂_ℓ}, are the new guesses. The window then slides past
 * every point that no longer moved: with {@code err_j = max over samples of ‖y_j − x̂_j‖²/dim} and the noise
 * scale {@code v_j = σ_j²(σ_{j−1}² − σ_j²)/σ_{j−1}²} (the DDPM posterior variance of the step into point j,
 * the paper's noise-scaled tolerance), ℓ advances by the first j with {@code err_{ℓ+j} > τ²·v_{ℓ+j}}, or by
 * the whole window if none. New points start as a copy of the window's last guess. Every window advances at
 * least one point (its first step is computed from a converged state), so a run ends after at most N
 * iterations; at the fixed point the prefix sums are the sequential recurrence itself, bit for bit.
 *
 * <p>Window 1 is the base sampler bit for bit ({@code euler} or {@code heun}). Cost: the sequential depth
 * (batched calls one after another; 2 per iteration with Heun) is what a device with idle parallel capacity
 * pays; the NFE per sample (window points evaluated over all iterations) is the compute, typically a few times
 * the sequential solver's. Both are reported ({@link SampleResult#depth}).
 *
 * @param window points per batched call p ≥ 1 (clipped to the number of steps)
 * @param tolerance τ of the test {@code err_j ≤ τ²·v_j}, at least {@link #MIN_TOLERANCE}
 * @param base {@code euler} or {@code heun}
 */
public record ParaDigms(int window, double tolerance, String base) implements Sampler {
  /**
   * The smallest τ accepted: the test compares a change of the state against τ·sqrt(v_j), and at the
   * smallest steps of fine grids sqrt(v_j) is ~1e-4 of the state, so below 1e-10 the test would ask for
   * agreement within ~1e3 double-precision ulps, which round-off of a batched model call can exceed.
   */
  public static final double MIN_TOLERANCE = 1e-10;
  /** The largest window: p·batch rows go through the model at once. */
  public static final int MAX_WINDOW = 1000;

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("paradigms", false,
      "ParaDiGMS: Picard iterations over a sliding window of grid points, one batched denoiser call per window "
          + "(Shih et al. 2023, Alg. 1); converges to euler/heun; reports sequential depth and NFE",
      List.of(ParamSpec.number("window", "8", "grid points per batched call (1 = the base sampler)",
          ParamRange.ints(1, MAX_WINDOW)),
          ParamSpec.number("tolerance", "0.1", "τ: a point has converged when its change² ≤ τ²·(step noise variance)",
              ParamRange.closed(MIN_TOLERANCE, 1e3)),
          new ParamSpec("base", "euler", "the sequential step: euler or heun")),
      p -> new ParaDigms(p.getInt("window"), p.getDouble("tolerance"), p.getChoice("base", "euler", "heun")));

  /** Checks the parameters. */
  public ParaDigms {
    if (window < 1 || window > MAX_WINDOW) {
      throw new IllegalArgumentException("parameter window of sampler 'paradigms' must be an integer in [1, "
          + MAX_WINDOW + "], got " + window);
    }
    if (!(tolerance >= MIN_TOLERANCE && tolerance <= 1e3)) {
      throw new IllegalArgumentException("parameter tolerance of sampler 'paradigms' must be in [" + MIN_TOLERANCE
          + ", 1000], got " + tolerance + (tolerance > 0 && tolerance < MIN_TOLERANCE
              ? " (below what double precision can meet: the test would ask for agreement within round-off)" : ""));
    }
    if (!base.equals("euler") && !base.equals("heun")) {
      throw new IllegalArgumentException("parameter base of sampler 'paradigms' must be one of euler, heun, got '"
          + base + "'");
    }
  }

  @Override
  public String id() {
    return "paradigms";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
    return solve(model, grid, x, listener).x();
  }

  /** The run with its NFE per sample (all window points evaluated) and its depth (batched calls). */
  @Override
  public SampleResult sample(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
    return solve(model, grid, x, listener == null ? StepListener.NONE : listener);
  }

  private SampleResult solve(Denoiser model, Grid grid, NDArray x0, StepListener listener) {
    int n = Math.toIntExact(x0.getShape().get(0));
    int steps = grid.steps();
    int p = Math.min(window, steps);
    double[] tol = new double[steps + 1];
    for (int j = 1; j <= steps; j++) {
      double s0 = grid.sigma(j - 1);
      double s1 = grid.sigma(j);
      tol[j] = tolerance * tolerance * s1 * s1 * ((s0 - s1) * (s0 + s1)) / (s0 * s0);
    }
    int[] cost = {0, 0};
    NDArray[] xs = new NDArray[steps + 1];
    xs[0] = SigmaSpace.enter(x0, grid);
    // The initial guess of every point in the first window: x̂_0 (Shih et al. 2023, Alg. 1).
    for (int j = 1; j <= p; j++) {
      xs[j] = xs[0].duplicate();
    }
    int l = 0;
    while (l < steps) {
      int e = Math.min(l + p, steps);
      int m = e - l;
      int stride = m;
      try (StepScope it = new StepScope()) {
        NDArray[] denoised = new NDArray[m];
        NDArray[] inc = increments(model, grid, xs, l, m, n, denoised, cost);
        NDArray y = xs[l];
        for (int k = 1; k <= m; k++) {
          // Prefix sum: the new guess of point l + k.
          y = it.keep(y.add(inc[k - 1]));
          if (stride == m && k < m && change(y, xs[l + k], n) > tol[l + k]) {
            stride = k;
          }
          xs[l + k].close();
          xs[l + k] = y;
        }
        for (int k = 0; k < stride; k++) {
          SigmaSpace.notify(listener, grid, l + k, xs[l + k + 1], denoised[k]);
        }
      }
      for (int j = l; j < l + stride; j++) {
        xs[j].close();
        xs[j] = null;
      }
      int next = l + stride;
      // New points enter the window as a copy of its last guess.
      for (int j = e + 1; j <= Math.min(next + p, steps); j++) {
        xs[j] = xs[e].duplicate();
      }
      l = next;
    }
    return new SampleResult(SigmaSpace.leave(xs[steps], grid), cost[0], cost[1]);
  }

  /**
   * The base step's increments Δ_j(x̂_j) of the window's points l … l+m−1, one batched call for the
   * slopes (and one for Heun's corrector slopes); the x0-estimates go to {@code denoised}.
   */
  private NDArray[] increments(Denoiser model, Grid grid, NDArray[] xs, int l, int m, int n, NDArray[] denoised,
      int[] cost) {
    NDList ds = call(model, grid, xs, l, m, n, l, cost);
    NDArray[] inc = new NDArray[m];
    NDArray[] slope = new NDArray[m];
    NDArray[] predicted = new NDArray[m];
    int corrected = 0;
    for (int k = 0; k < m; k++) {
      int j = l + k;
      double h = grid.sigma(j + 1) - grid.sigma(j);
      denoised[k] = ds.get(k);
      slope[k] = SigmaSpace.derivative(xs[j], denoised[k], grid.sigma(j));
      if (base.equals("heun") && grid.sigma(j + 1) > 0) {
        predicted[k] = xs[j].add(slope[k].mul(h));
        corrected = k + 1;
      } else {
        inc[k] = slope[k].mul(h);
      }
    }
    if (corrected > 0) {
      // Heun: the slopes at the predicted points, σ_{j+1} > 0 for all of them (only the grid's last
      // step can end at 0).
      NDList d2 = call(model, grid, predicted, 0, corrected, n, l + 1, cost);
      for (int k = 0; k < corrected; k++) {
        int j = l + k;
        double h = grid.sigma(j + 1) - grid.sigma(j);
        NDArray s2 = SigmaSpace.derivative(predicted[k], d2.get(k), grid.sigma(j + 1));
        inc[k] = slope[k].add(s2).div(2).mul(h);
      }
    }
    return inc;
  }

  /**
   * One batched denoiser call on {@code states[from … from+m−1]} at the σ's of grid points
   * {@code point …}: the states stacked along the batch (block k = point k), split back per point.
   */
  private static NDList call(Denoiser model, Grid grid, NDArray[] states, int from, int m, int n, int point,
      int[] cost) {
    double[] sigma = new double[m * n];
    for (int k = 0; k < m; k++) {
      java.util.Arrays.fill(sigma, k * n, (k + 1) * n, grid.sigma(point + k));
    }
    NDArray stacked;
    if (m == 1) {
      stacked = states[from];
    } else {
      NDList parts = new NDList();
      for (int k = 0; k < m; k++) {
        parts.add(states[from + k]);
      }
      stacked = NDArrays.concat(parts, 0);
    }
    NDArray out = model.denoise(stacked, sigma, Conditioning.NONE);
    cost[0] += m;
    cost[1]++;
    return m == 1 ? new NDList(out) : out.split(m, 0);
  }

  /** {@code max over samples of mean((a − b)²)}: a point's change between two iterations. */
  private static double change(NDArray a, NDArray b, int n) {
    try (StepScope s = new StepScope()) {
      NDArray d = a.toType(DataType.FLOAT64, false).sub(b.toType(DataType.FLOAT64, false));
      return d.square().reshape(n, -1).mean(new int[] {1}).max().getDouble();
    }
  }
}
