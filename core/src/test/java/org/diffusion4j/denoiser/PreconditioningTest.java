package org.diffusion4j.denoiser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VpLinear;
import org.junit.jupiter.api.Test;

class PreconditioningTest {
  @Test
  void edmInputHasUnitVarianceAndTargetIsUnitVariance() {
    // PAR-06: Var(c_in (x0 + σε)) = c_in²(σd² + σ²) = 1; with F ≡ 0 the effective target has
    // variance 1, i.e. c_out² = (1 − c_skip)² σd² + c_skip² σ².
    Preconditioning.Edm p = new Preconditioning.Edm(0.5);
    for (double sigma : new double[] {0.002, 0.1, 0.5, 3, 80}) {
      Scalings s = p.scalings(sigma);
      assertEquals(1, s.cIn() * s.cIn() * (0.25 + sigma * sigma), 1e-12);
      double c2 = Math.pow(1 - s.cSkip(), 2) * 0.25 + s.cSkip() * s.cSkip() * sigma * sigma;
      assertEquals(c2, s.cOut() * s.cOut(), 1e-12);
      assertEquals(0.25 * Math.log(sigma), s.cNoise(), 1e-15);
    }
    assertEquals(1, p.scalings(0).cSkip(), 0, "c_skip(0) = 1");
    assertEquals(0, p.scalings(0).cOut(), 0, "c_out(0) = 0");
  }

  @Test
  void vpAndFlowRowsReproduceTheirParameterizations() {
    // A VP ε-network: D = x̂ − σ ε; c_noise = 999·t(σ).
    Scalings vp = Preconditioning.Vp.standard().scalings(1.5);
    assertEquals(1, vp.cSkip(), 0);
    assertEquals(-1.5, vp.cOut(), 0);
    assertEquals(999 * VpLinear.DEFAULT.sigmaInv(1.5), vp.cNoise(), 1e-9);
    // Flow: with the exact velocity u = ε − x0 at x_t = c_in x̂, D = c_skip x̂ + c_out u = x0.
    double x0 = 0.8;
    double eps = -1.3;
    double sigma = 2.5;
    double t = sigma / (1 + sigma);
    Scalings fl = new Preconditioning.Flow().scalings(sigma);
    double xHat = x0 + sigma * eps;
    assertEquals((1 - t) * x0 + t * eps, fl.cIn() * xHat, 1e-12);
    assertEquals(x0, fl.cSkip() * xHat + fl.cOut() * (eps - x0), 1e-12);
    assertEquals(RectifiedFlow.DEFAULT.sigmaInv(sigma), fl.cNoise(), 1e-15);
  }

  @Test
  void vpTellsTheNetworkTheTimeOfItsOwnProcess() {
    // On a discrete DDPM schedule the ε-network is conditioned on the timestep itself.
    org.diffusion4j.process.DiscreteDdpm ddpm = (org.diffusion4j.process.DiscreteDdpm)
        org.diffusion4j.process.Processes.byId("ddpm");
    Preconditioning.Vp p = new Preconditioning.Vp(ddpm, 1000);
    for (int i : new int[] {0, 1, 250, 999}) {
      assertEquals(i, p.scalings(ddpm.sigma(i)).cNoise(), 1e-6, "timestep " + i);
    }
    // On the cosine VP process, 999·t of that process, not of VP-linear.
    org.diffusion4j.process.NoiseProcess cos = org.diffusion4j.process.Processes.byId("vp-cosine");
    Preconditioning.Vp pc = new Preconditioning.Vp(cos, 1000);
    assertEquals(999 * 0.4, pc.scalings(cos.sigma(0.4)).cNoise(), 1e-9);
    assertEquals(999 * VpLinear.DEFAULT.sigmaInv(0.7),
        new Preconditioning.Vp(VpLinear.DEFAULT, 1000).scalings(0.7).cNoise(), 1e-9);
  }
}
