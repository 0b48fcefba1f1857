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
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * Singlestep DPM-Solver / DPM-Solver++ of orders 1–3 whose intermediate points are grid points (Lu et al.
 * 2022a, Alg. 1 and eqs. 3.7–3.9 with free r's; Lu et al. 2022b for the data prediction form; diffusers'
 * {@code DPMSolverSinglestepScheduler}). The grid's steps are grouped by an order list ([1, 2, 3] repeated,
 * with diffusers' lowering at the end): a group of k steps starts from the state at its first point s,
 * evaluates the model at its k points (each after a lower-order step from s) and ends with one order-k step
 * from s to the group's last point. With {@code r_j = (λ_{s_j} − λ_s)/h}: order 2
 * {@code x̂_t = (σ_t/σ_s) x̂_s − (e^{−h}−1)(D_0 + ½ D_1)} (midpoint) or {@code − (e^{−h}−1) D_0 + ((e^{−h}−1)/h + 1) D_1}
 * (heun), order 3 with the first and second divided differences of the group's outputs. One NFE per step.
 *
 * @param order the solver order, 1–3
 * @param dataPrediction true for DPM-Solver++, false for DPM-Solver (noise prediction)
 * @param heun the heun coefficients, else midpoint
 * @param lowerOrderFinal diffusers' lowering of the last group (forced when steps is not a multiple of order)
 */
public record DpmSolverSinglestep(int order, boolean dataPrediction, boolean heun, boolean lowerOrderFinal)
    implements Sampler {

  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("dpm-singlestep", false,
      "singlestep DPM-Solver / DPM-Solver++ of order 1-3 with grid-point intermediates and diffusers' order "
          + "list (Lu et al. 2022a,b); 1 NFE/step",
      List.of(ParamSpec.number("order", "2", "solver order", ParamRange.ints(1, 3)),
          new ParamSpec("algorithm", "dpmsolver++", "dpmsolver++ (data prediction) or dpmsolver (noise prediction)"),
          new ParamSpec("solver-type", "midpoint", "midpoint or heun"),
          new ParamSpec("lower-order-final", "true", "lower the order of the last group")),
      p -> new DpmSolverSinglestep(p.getInt("order"),
          p.getChoice("algorithm", "dpmsolver++", "dpmsolver").equals("dpmsolver++"),
          p.getChoice("solver-type", "midpoint", "heun").equals("heun"), p.getBoolean("lower-order-final")));

  public DpmSolverSinglestep {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order must be 1, 2 or 3, got " + order);
    }
  }

  @Override
  public String id() {
    return "dpm-singlestep";
  }

  /** The order of each step (diffusers' {@code get_order_list}). */
  public int[] orders(int steps) {
    boolean lof = lowerOrderFinal || steps % order != 0;
    List<Integer> o = new ArrayList<>();
    int groups = steps / order;
    if (lof && order == 3 && steps % 3 == 0) {
      groups--;
    }
    for (int g = 0; g < groups; g++) {
      for (int k = 1; k <= order; k++) {
        o.add(k);
      }
    }
    if (lof) {
      if (order == 3 && steps % 3 == 0) {
        o.addAll(List.of(1, 2, 1));
      } else if (order == 3 && steps % 3 == 2) {
        o.addAll(List.of(1, 2));
      } else if (steps % order == 1) {
        o.add(1);
      }
    }
    return o.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int[] orders = orders(grid.steps());
    if (orders.length != grid.steps()) {
      throw new IllegalStateException("order list " + Arrays.toString(orders) + " for " + grid.steps() + " steps");
    }
    NDArray x = SigmaSpace.enter(x0, grid);
    NDArray start = null;
    int s = 0;
    List<NDArray> outs = new ArrayList<>();
    for (int i = 0; i < grid.steps(); i++) {
      double sigma = grid.sigma(i);
      try (StepScope step = new StepScope()) {
        if (orders[i] == 1) {
          if (start != null) {
            start.close();
          }
          for (NDArray o : outs) {
            o.close();
          }
          outs.clear();
          start = step.keep(x.duplicate());
          s = i;
        }
        NDArray denoised = model.denoise(x, sigma);
        outs.add(step.keep(dataPrediction ? denoised : x.sub(denoised).div(sigma)));
        NDArray next = step.keep(update(grid, s, i + 1, start, outs));
        x.close();
        x = next;
        SigmaSpace.notify(listener, grid, i, x, denoised);
      }
    }
    if (start != null) {
      start.close();
    }
    for (NDArray o : outs) {
      o.close();
    }
    return SigmaSpace.leave(x, grid);
  }

  /** One step of order outs.size() from grid point s (state xs) to point t; outs at points s, s+1, …. */
  private NDArray update(Grid grid, int s, int t, NDArray xs, List<NDArray> outs) {
    double sigS = grid.sigma(s);
    double sigT = grid.sigma(t);
    if (sigT == 0) {
      return dataPrediction ? outs.get(0).duplicate() : xs.sub(outs.get(0).mul(sigS));
    }
    double h = grid.lambda(t) - grid.lambda(s);
    double em = Math.expm1(-h);
    double ep = Math.expm1(h);
    NDArray d0 = outs.get(0);
    NDArray base = dataPrediction ? xs.mul(sigT / sigS).sub(d0.mul(em)) : xs.sub(d0.mul(sigT * ep));
    int k = outs.size();
    if (k == 1) {
      return base;
    }
    if (k == 2) {
      double r0 = (grid.lambda(s + 1) - grid.lambda(s)) / h;
      NDArray d1 = outs.get(1).sub(d0).div(r0);
      double c = dataPrediction ? (heun ? -(em / h + 1) : 0.5 * em) : (heun ? sigT * (ep / h - 1) : 0.5 * sigT * ep);
      return base.sub(d1.mul(c));
    }
    double r1 = (grid.lambda(s + 1) - grid.lambda(s)) / h; // the earlier intermediate point
    double r0 = (grid.lambda(s + 2) - grid.lambda(s)) / h; // the later one
    NDArray d10 = outs.get(1).sub(d0).div(r1);
    NDArray d11 = outs.get(2).sub(d0).div(r0);
    double c1 = dataPrediction ? em / h + 1 : -sigT * (ep / h - 1);
    if (!heun) {
      return base.add(d11.mul(c1));
    }
    NDArray d1 = d10.mul(r0).sub(d11.mul(r1)).div(r0 - r1);
    NDArray d2 = d11.sub(d10).mul(2 / (r0 - r1));
    double c2 = dataPrediction ? -((em + h) / (h * h) - 0.5) : -sigT * ((ep - h) / (h * h) - 0.5);
    return base.add(d1.mul(c1)).add(d2.mul(c2));
  }
}
