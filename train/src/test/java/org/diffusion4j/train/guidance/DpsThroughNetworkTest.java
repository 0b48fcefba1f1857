package org.diffusion4j.train.guidance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PosteriorSampling;
import org.diffusion4j.train.nn.Mlp;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;

/** DPS back-propagates through a real network: its correction is −ζσ² times the residual norm's gradient. */
class DpsThroughNetworkTest {
  @Test
  void correctionMatchesFiniteDifferencesOfTheResidualNorm() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      Mlp net = new MlpConfig(2, 32, 2, 16, 0).build();
      net.initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
      NetworkDenoiser d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      MeasurementOperator a = MeasurementOperator.linear(new double[][] {{1, -0.5}});
      double[] y = {0.7};
      double zeta = 0.3;
      PosteriorSampling dps = new PosteriorSampling(d, a, y, zeta);
      double[] x = {0.4, -1.1, 1.5, 0.2};
      double[] sigma = {0.5, 2};
      double[] guided = dps.denoise(m.create(x, new Shape(2, 2)), sigma, Conditioning.NONE).toDoubleArray();
      double[] plain = d.denoise(m.create(x, new Shape(2, 2)), sigma, Conditioning.NONE).toDoubleArray();
      double h = 1e-2;
      double largest = 0;
      for (int j = 0; j < 4; j++) {
        double[] p = x.clone();
        double[] q = x.clone();
        p[j] += h;
        q[j] -= h;
        double fd = (residual(dps, d, m, p)[j / 2] - residual(dps, d, m, q)[j / 2]) / (2 * h);
        double s = sigma[j / 2];
        double expected = -zeta * s * s * fd;
        assertEquals(expected, guided[j] - plain[j], 2e-3 + 2e-2 * Math.abs(expected), "value " + j);
        largest = Math.max(largest, Math.abs(expected));
      }
      assertTrue(largest > 1e-2, "a vanishing correction tests nothing: " + largest);
    }
  }

  private static double[] residual(PosteriorSampling dps, NetworkDenoiser d, NDManager m, double[] x) {
    NDArray den = d.denoise(m.create(x, new Shape(2, 2)), new double[] {0.5, 2}, Conditioning.NONE);
    return dps.residual(den);
  }
}
