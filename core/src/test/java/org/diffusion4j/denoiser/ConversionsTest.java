package org.diffusion4j.denoiser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.junit.jupiter.api.Test;

class ConversionsTest {
  @Test
  void everyParameterizationRoundTripsOnEveryProcess() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = m.create(new double[] {0.3, -1.2, 2.0});
      NDArray eps = m.create(new double[] {-0.7, 0.4, 1.1});
      for (String id : Processes.IDS) {
        NoiseProcess p = Processes.byId(id);
        double t = p.tMin() + 0.41 * (p.tMax() - p.tMin());
        NDArray x = x0.mul(p.alpha(t)).add(eps.mul(p.sigmaAbs(t)));
        for (Parameterization par : Parameterization.values()) {
          NDArray target = par.fromX0(x0, x, p, t);
          NDArray back = par.toX0(target, x, p, t);
          double err = back.sub(x0).abs().max().getDouble();
          assertEquals(0, err, 1e-9, id + "/" + par);
        }
        // The heads' targets are what PAR-02 says they are.
        double a = p.alpha(t);
        double s = p.sigmaAbs(t);
        double da = p.ds(t);
        double dsa = p.ds(t) * p.sigma(t) + p.s(t) * p.dSigma(t);
        assertClose(eps, Parameterization.EPS.fromX0(x0, x, p, t), 1e-9, id + " eps");
        assertClose(eps.mul(a).sub(x0.mul(s)), Parameterization.V.fromX0(x0, x, p, t), 1e-9, id + " v");
        assertClose(eps.div(-s), Parameterization.SCORE.fromX0(x0, x, p, t), 1e-9, id + " score");
        assertClose(x0.mul(da).add(eps.mul(dsa)), Parameterization.VELOCITY.fromX0(x0, x, p, t), 1e-7,
            id + " velocity");
      }
    }
  }

  private static void assertClose(NDArray want, NDArray got, double tol, String msg) {
    double scale = Math.max(1, want.abs().max().getDouble());
    assertEquals(0, want.sub(got).abs().max().getDouble() / scale, tol, msg);
  }

  @Test
  void flowVelocityIsEpsMinusX0() {
    // FM schedule (α = 1 − t, σ = t): v = ε − x0, x* = x_t − t v (PAR-02).
    double[] c = Conversions.x0Coefficients(Parameterization.VELOCITY, 0.6, 0.4, -1, 1);
    assertEquals(1, c[0], 1e-15);
    assertEquals(-0.4, c[1], 1e-15);
  }
}
