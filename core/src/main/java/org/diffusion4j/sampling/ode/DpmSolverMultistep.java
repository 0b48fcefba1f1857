package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * Multistep DPM-Solver of orders 1–3 in both parameterisations, with an explicit order schedule: the data
 * prediction form DPM-Solver++ (Lu et al. 2022b, "DPM-Solver++", eqs. 8–9 and Alg. 2, with the third-order
 * extension of their multistep update) and the noise prediction form DPM-Solver (Lu et al. 2022a, eq. 3.4,
 * Taylor terms in h = λ_t − λ_s, λ = −log σ). Written in the scaled state x̂ = x/s, where the data form
 * reads {@code x̂_t = (σ_t/σ_s) x̂_s − (e^{−h} − 1)(D_0 + c_1 D_1 + c_2 D_2)} and the noise form
 * {@code x̂_t = x̂_s − σ_t (e^{h} − 1)(ε_0 + …)}, with divided differences of the stored model outputs
 * over the previous λ's. {@code solver-type} chooses the second-order coefficient: midpoint (c = ½) or
 * heun (c = 1 + (e^{−h}−1)/h for the data form, (e^h−1)/h − 1 for the noise form).
 *
 * <p>Order schedule (the one diffusers' multistep schedulers use): step i of N uses order 1 while there is
 * no history, at most 2 while there is one previous output; with {@code lower-order-final} and N &lt; 15
 * the last step uses order 1 and the one before at most 2; {@code euler-at-final} forces order 1 on the
 * last step. A step whose σ's are equal is a no-op. 1 NFE per step.
 *
 * @param order the solver order, 1–3
 * @param dataPrediction true for DPM-Solver++ (dpmsolver++), false for DPM-Solver (dpmsolver)
 * @param heun true for the heun second-order coefficient, false for midpoint
 * @param lowerOrderFinal lower the order on the final two steps when N &lt; 15
 * @param eulerAtFinal first order on the last step
 */
public record DpmSolverMultistep(int order, boolean dataPrediction, boolean heun, boolean lowerOrderFinal,
    boolean eulerAtFinal) implements Sampler {

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-multistep", false,
      "multistep DPM-Solver / DPM-Solver++ of order 1-3 with diffusers' order schedule (Lu et al. 2022a,b); "
          + "1 NFE/step",
      List.of(ParamSpec.number("order", "2", "solver order", ParamRange.ints(1, 3)),
          new ParamSpec("algorithm", "dpmsolver++", "dpmsolver++ (data prediction) or dpmsolver (noise prediction)"),
          new ParamSpec("solver-type", "midpoint", "second-order coefficient: midpoint or heun"),
          new ParamSpec("lower-order-final", "true", "orders 1 and <= 2 on the last two steps when steps < 15"),
          new ParamSpec("euler-at-final", "false", "first order on the last step")),
      DpmSolverMultistep::fromParams);

  public DpmSolverMultistep {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order must be 1, 2 or 3, got " + order);
    }
  }

  private static DpmSolverMultistep fromParams(SamplerParams p) {
    String alg = p.getChoice("algorithm", "dpmsolver++", "dpmsolver");
    String type = p.getChoice("solver-type", "midpoint", "heun");
    return new DpmSolverMultistep(p.getInt("order"), alg.equals("dpmsolver++"), type.equals("heun"),
        p.getBoolean("lower-order-final"), p.getBoolean("euler-at-final"));
  }

  @Override
  public String id() {
    return "dpm-multistep";
  }

  /** The order of each of {@code steps} steps under this schedule. */
  public int[] orders(int steps) {
    int[] o = new int[steps];
    int lowerOrderNums = 0;
    for (int i = 0; i < steps; i++) {
      boolean finalStep = i == steps - 1 && (eulerAtFinal || (lowerOrderFinal && steps < 15));
      boolean secondLast = i == steps - 2 && lowerOrderFinal && steps < 15;
      if (order == 1 || lowerOrderNums < 1 || finalStep) {
        o[i] = 1;
      } else if (order == 2 || lowerOrderNums < 2 || secondLast) {
        o[i] = 2;
      } else {
        o[i] = 3;
      }
      lowerOrderNums = Math.min(lowerOrderNums + 1, order);
    }
    return o;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    return run(model, grid, x0, listener, orders(grid.steps()));
  }

  /**
   * Runs with an explicit order per step (e.g. computed for a longer schedule whose trailing no-op steps
   * the grid omits).
   */
  public NDArray run(Denoiser model, Grid grid, NDArray x0, StepListener listener, int[] orders) {
    if (orders.length < grid.steps()) {
      throw new IllegalArgumentException("need an order for each of " + grid.steps() + " steps, got "
          + Arrays.toString(orders));
    }
    NDArray x = SigmaSpace.enter(x0, grid);
    List<NDArray> outs = new ArrayList<>(); // newest first: D (data form) or ε (noise form)
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      double sigmaNext = grid.sigma(i + 1);
      try (StepScope step = new StepScope()) {
        NDArray denoised = model.denoise(x, sigma);
        NDArray m0 = step.keep(dataPrediction ? denoised : x.sub(denoised).div(sigma));
        outs.add(0, m0);
        while (outs.size() > order) {
          outs.remove(outs.size() - 1).close();
        }
        int k = Math.min(orders[i], Math.min(outs.size(), i + 1));
        NDArray next = sigmaNext == sigma ? x.duplicate() : update(grid, i, x, outs, k);
        step.keep(next);
        x.close();
        x = next;
        SigmaSpace.notify(listener, grid, i, x, denoised);
      }
    }
    for (NDArray o : outs) {
      o.close();
    }
    return SigmaSpace.leave(x, grid);
  }

  private NDArray update(Grid grid, int i, NDArray x, List<NDArray> m, int k) {
    double sigma = grid.sigma(i);
    double sigmaNext = grid.sigma(i + 1);
    if (sigmaNext == 0) {
      // λ = ∞: both forms land on the data prediction (the noise form's σ_t(e^h − 1) → σ_s).
      return dataPrediction ? m.get(0).duplicate() : x.sub(m.get(0).mul(sigma));
    }
    double h = grid.lambda(i + 1) - grid.lambda(i);
    double em = Math.expm1(-h); // e^{−h} − 1 (data form)
    double ep = Math.expm1(h); // e^{h} − 1 (noise form)
    NDArray base = dataPrediction ? x.mul(sigmaNext / sigma).sub(m.get(0).mul(em))
        : x.sub(m.get(0).mul(sigmaNext * ep));
    if (k == 1) {
      return base;
    }
    double h0 = grid.lambda(i) - grid.lambda(i - 1);
    double r0 = h0 / h;
    NDArray d10 = m.get(0).sub(m.get(1)).div(r0);
    if (k == 2) {
      double c;
      if (dataPrediction) {
        c = heun ? -(em / h + 1) : 0.5 * em;
        return base.sub(d10.mul(c));
      }
      c = heun ? sigmaNext * (ep / h - 1) : 0.5 * sigmaNext * ep;
      return base.sub(d10.mul(c));
    }
    double h1 = grid.lambda(i - 1) - grid.lambda(i - 2);
    double r1 = h1 / h;
    NDArray d11 = m.get(1).sub(m.get(2)).div(r1);
    NDArray d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
    NDArray d2 = d10.sub(d11).div(r0 + r1);
    if (dataPrediction) {
      return base.add(d1.mul(em / h + 1)).sub(d2.mul((em + h) / (h * h) - 0.5));
    }
    return base.sub(d1.mul(sigmaNext * (ep / h - 1))).sub(d2.mul(sigmaNext * ((ep - h) / (h * h) - 0.5)));
  }
}
