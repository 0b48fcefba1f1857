package org.diffusion4j.sampling.ode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.sampling.ode.LambdaSpace.Point;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

class DeisTest {
  private final GaussianMixture g = Oracle.gaussian(2);

  private double[] run(Sampler s, Grid grid) {
    return Oracle.run(s, g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(4, 2)), 2, DataType.FLOAT64,
        NoiseSource.NONE).x();
  }

  @Test
  void orderOneIsDdim() {
    for (Grid grid : new Grid[] {new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 11),
        new GridSpec.Timesteps("trailing", 0, false).build(DiscreteDdpm.DEFAULT, 7)}) {
      double[] ddim = run(new Ddim(0), grid);
      for (String basis : new String[] {"logrho", "t"}) {
        double[] deis = run(new Deis(1, basis), grid);
        assertTrue(Oracle.maxAbs(ddim, deis) < 1e-12, basis + ": " + Oracle.maxAbs(ddim, deis));
      }
    }
  }

  @Test
  void logRhoOrderTwoIsMultistepDpmSolverTwoTaylor() {
    // A linear interpolant of ε in log ρ = −λ integrated exactly is the Taylor-type multistep DPM-Solver-2
    // (Lu et al. 2022); with ≥ 15 steps neither applies lower-order final steps.
    Grid grid = Oracle.geometric(VpLinear.DEFAULT, 80, 0.05, 16);
    double[] a = run(new Deis(2, "logrho"), grid);
    double[] b = run(new DpmSolver(2, "multistep", true, true), grid);
    assertTrue(Oracle.maxAbs(a, b) < 1e-12, "max diff " + Oracle.maxAbs(a, b));
  }

  /** ∫_{ρ_s}^{ρ_t} f(ρ) dρ by composite Simpson with 20000 panels. */
  private static double simpson(DoubleUnaryOperator f, double a, double b) {
    int m = 20000;
    double h = (b - a) / m;
    double s = f.applyAsDouble(a) + f.applyAsDouble(b);
    for (int i = 1; i < m; i++) {
      s += (i % 2 == 1 ? 4 : 2) * f.applyAsDouble(a + i * h);
    }
    return s * h / 3;
  }

  @Test
  void coefficientsIntegratePolynomialsOfDegreeBelowTheOrderExactly() {
    // SMP-10 test: Σ_j C_j p(u_j) = ∫ p(u(ρ)) dρ for deg p ≤ k − 1, u = log ρ (logrho) or t (t basis).
    NoiseProcess vp = VpLinear.DEFAULT;
    Grid grid = Oracle.geometric(vp, 40, 0.2, 8);
    for (int k = 2; k <= 3; k++) {
      List<Point> anchors = k == 2 ? List.of(LambdaSpace.at(grid, 4), LambdaSpace.at(grid, 3))
          : List.of(LambdaSpace.at(grid, 4), LambdaSpace.at(grid, 3), LambdaSpace.at(grid, 2));
      Point t = LambdaSpace.at(grid, 5);
      for (String basis : new String[] {"logrho", "t"}) {
        double[] c = Deis.coefficients(basis, vp, anchors, t);
        for (int deg = 0; deg < k; deg++) {
          final int d = deg;
          DoubleUnaryOperator u = basis.equals("logrho") ? Math::log : vp::sigmaInv;
          DoubleUnaryOperator p = v -> Math.pow(v + 0.3, d);
          double sum = 0;
          for (int j = 0; j < k; j++) {
            double uj = basis.equals("logrho") ? Math.log(anchors.get(j).sigmaRel()) : anchors.get(j).t();
            sum += c[j] * p.applyAsDouble(uj);
          }
          double exact = simpson(rho -> p.applyAsDouble(u.applyAsDouble(rho)), anchors.get(0).sigmaRel(),
              t.sigmaRel());
          assertEquals(exact, sum, 1e-10 * Math.max(1, Math.abs(exact)), basis + " k=" + k + " deg=" + deg);
        }
      }
    }
  }

  @Test
  void convergenceOrdersOnVpGeometricGrids() {
    // 40 → 80 steps (≥ 15: no lower-order final steps). logrho-3 converges faster than nominal on this
    // Gaussian (≈ 4.2 measured), so it is bounded below only.
    java.util.function.IntFunction<Grid> grids = n -> Oracle.geometric(VpLinear.DEFAULT, 80, 0.05, n);
    assertEquals(1.0, Oracle.order(new Deis(1, "logrho"), g, grids, 40, 80), 0.1);
    assertEquals(2.0, Oracle.order(new Deis(2, "logrho"), g, grids, 40, 80), 0.15);
    assertEquals(2.0, Oracle.order(new Deis(2, "t"), g, grids, 40, 80), 0.15);
    assertEquals(3.0, Oracle.order(new Deis(3, "t"), g, grids, 40, 80), 0.3);
    double p3 = Oracle.order(new Deis(3, "logrho"), g, grids, 40, 80);
    assertTrue(p3 > 2.7 && p3 < 4.6, "logrho-3 order " + p3);
  }

  @Test
  void warmUpAndLowerOrderFinalFollowDiffusers() {
    Deis d = new Deis(3, "logrho");
    int[] ten = new int[10];
    for (int i = 0; i < 10; i++) {
      ten[i] = d.stepOrder(i, 10);
    }
    assertArrayEquals(new int[] {1, 2, 3, 3, 3, 3, 3, 3, 2, 1}, ten);
    assertEquals(3, d.stepOrder(14, 15));
    assertEquals(2, new Deis(2, "t").stepOrder(5, 20));
  }

  @Test
  void nfeIsOnePerStepAndTheStepToZeroIsFinite() {
    Grid grid = new GridSpec.Karras(0.002, 80, 7).build(VpLinear.DEFAULT, 20);
    Oracle.Run r = Oracle.run(new Deis(3, "t"), g.denoiser(), grid, Oracle.prior(grid, Oracle.normals(3, 2)), 2,
        DataType.FLOAT64, NoiseSource.NONE);
    assertEquals(20, r.nfe());
    for (double v : r.x()) {
      assertTrue(Double.isFinite(v));
    }
    // 20 Karras steps to σ = 0: close to the exact flow.
    assertTrue(Oracle.error(new Deis(3, "logrho"), g, grid, 8) < 2e-3);
  }
}
