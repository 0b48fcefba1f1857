package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SigmaSpace;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.sampling.ode.LambdaSpace.Eval;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;

/**
 * AB-DEIS-n: exponential Adams–Bashforth with a Lagrange interpolant of ε over the last n model outputs
 * (Zhang &amp; Chen 2023). With ρ = σ_t/α_t the update is exact in the linear part,
 * {@code x_t = α_t (x_s/α_s + Σ_j C_j ε_j)}, {@code C_j = ∫_{ρ_s}^{ρ_t} ℓ_j dρ
 * = −∫_{λ_s}^{λ_t} e^{−λ} ℓ_j dλ} (the paper's {@code C_{i,j}} divided by α_t).
 *
 * <p>Bases: {@code logrho} (default) interpolates in log ρ and integrates over ρ in closed form —
 * diffusers' {@code DEISMultistepScheduler} (algorithm "deis"); {@code t} interpolates in the process
 * time t, as the paper writes it, with the integral in λ by 16-point Gauss–Legendre.
 * Warm-up and final steps follow diffusers: order min(n, i+1) at step i, and with fewer than 15 steps
 * order 1 on the last step and at most 2 on the one before. The step to σ = 0 is first order (returns
 * α·x0). Order 1 is DDIM. One NFE per step.
 *
 * @param order n ∈ {1, 2, 3} (default 3)
 * @param basis {@code logrho} (default) or {@code t}
 */
public record Deis(int order, String basis) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("deis", false,
      "AB-DEIS-n (Zhang & Chen 2023; diffusers DEISMultistepScheduler for basis=logrho); 1 NFE/step",
      List.of(ParamSpec.number("order", "3", "multistep order (1 = DDIM)", ParamRange.ints(1, 3)),
          new ParamSpec("basis", "logrho", "Lagrange basis: logrho (diffusers, closed form) or t (paper, quadrature)")),
      p -> new Deis(p.getInt("order"), p.getChoice("basis", "logrho", "t")));

  /** diffusers applies its lower-order final steps below this many steps. */
  static final int LOWER_ORDER_FINAL_BELOW = 15;

  public Deis {
    if (order < 1 || order > 3) {
      throw new IllegalArgumentException("order must lie in [1, 3], got " + order);
    }
    if (!basis.equals("logrho") && !basis.equals("t")) {
      throw new IllegalArgumentException("basis must be one of logrho, t, got '" + basis + "'");
    }
  }

  @Override
  public String id() {
    return "deis";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    int n = grid.steps();
    NDArray x = x0.duplicate();
    try (LambdaSpace.History history = new LambdaSpace.History(order)) {
      for (int i = 0; i < n; i++) {
        Point s = LambdaSpace.at(grid, i);
        Point t = LambdaSpace.at(grid, i + 1);
        try (StepScope step = new StepScope()) {
          Eval e = LambdaSpace.eval(model, x, s);
          history.push(step, e.eps(), s);
          int k = stepOrder(i, n);
          NDArray next;
          if (k == 1 || t.isData()) {
            // First order (warm-up, lower-order final, or the last step to σ = 0).
            next = LambdaSpace.firstOrder(x, e, s, t);
          } else {
            // Exponential Adams–Bashforth with k anchors.
            double[] c = coefficients(basis, grid.process(), history.points(k), t);
            next = x.div(s.alpha());
            for (int j = 0; j < k; j++) {
              next = next.add(history.eps(j).mul(c[j]));
            }
            next = next.mul(t.alpha());
          }
          step.keep(next);
          x.close();
          x = next;
          SigmaSpace.notifyProcess(listener, grid, i, x, e.x0());
        }
      }
    }
    return x;
  }

  /** Order of step i of n: warm-up min(n, i+1), then diffusers' lower-order final rule. */
  int stepOrder(int i, int n) {
    int k = Math.min(order, i + 1);
    if (n < LOWER_ORDER_FINAL_BELOW) {
      if (i == n - 1) {
        k = 1;
      } else if (i == n - 2) {
        k = Math.min(k, 2);
      }
    }
    return k;
  }

  /**
   * {@code C_j = ∫_{ρ_s}^{ρ_t} ℓ_j dρ} for the anchors (newest first, anchors[0] = s) and target t (σ &gt; 0).
   */
  static double[] coefficients(String basis, NoiseProcess process, List<Point> anchors, Point t) {
    int k = anchors.size();
    double[] c = new double[k];
    if (basis.equals("logrho")) {
      double[] rho = new double[k];
      for (int j = 0; j < k; j++) {
        rho[j] = anchors.get(j).sigmaRel();
      }
      double r0 = rho[0];
      double rt = t.sigmaRel();
      if (k == 2) {
        c[0] = logRho2(rt, rho[0], rho[1]) - logRho2(r0, rho[0], rho[1]);
        c[1] = logRho2(rt, rho[1], rho[0]) - logRho2(r0, rho[1], rho[0]);
      } else if (k == 3) {
        c[0] = logRho3(rt, rho[0], rho[1], rho[2]) - logRho3(r0, rho[0], rho[1], rho[2]);
        c[1] = logRho3(rt, rho[1], rho[2], rho[0]) - logRho3(r0, rho[1], rho[2], rho[0]);
        c[2] = logRho3(rt, rho[2], rho[0], rho[1]) - logRho3(r0, rho[2], rho[0], rho[1]);
      } else {
        c[0] = rt - r0;
      }
      return c;
    }
    // Basis in t: −∫_{λ_s}^{λ_t} e^{−λ} ℓ_j(t(λ)) dλ by Gauss–Legendre.
    double ls = anchors.get(0).lambda();
    double half = 0.5 * (t.lambda() - ls);
    for (int q = 0; q < GaussLegendre.NODES.length; q++) {
      double lambda = ls + half * (1 + GaussLegendre.NODES[q]);
      double tau = process.tOfLambda(lambda);
      double w = -half * GaussLegendre.WEIGHTS[q] * Math.exp(-lambda);
      for (int j = 0; j < k; j++) {
        double l = 1;
        for (int m = 0; m < k; m++) {
          if (m != j) {
            l *= (tau - anchors.get(m).t()) / (anchors.get(j).t() - anchors.get(m).t());
          }
        }
        c[j] += w * l;
      }
    }
    return c;
  }

  /** Antiderivative in ρ of {@code (ln ρ − ln c)/(ln b − ln c)}. */
  private static double logRho2(double rho, double b, double c) {
    double lc = Math.log(c);
    return rho * (Math.log(rho) - lc - 1) / (Math.log(b) - lc);
  }

  /** Antiderivative in ρ of {@code (ln ρ − ln c)(ln ρ − ln d)/((ln b − ln c)(ln b − ln d))}. */
  private static double logRho3(double rho, double b, double c, double d) {
    double l = Math.log(rho);
    double lb = Math.log(b);
    double lc = Math.log(c);
    double ld = Math.log(d);
    return rho * ((l - lc) * (l - ld) - 2 * l + lc + ld + 2) / ((lb - lc) * (lb - ld));
  }
}
