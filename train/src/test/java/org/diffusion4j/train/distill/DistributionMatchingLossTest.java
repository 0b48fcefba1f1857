package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DMD (Yin et al. 2024) on a 2-D Gaussian whose denoiser is exact. */
class DistributionMatchingLossTest {
  @TempDir Path dir;

  @Test
  void theMatchingGradientVanishesWhenTheFakeScoreIsTheDataScoreAndPullsAShiftedGeneratorBack() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 4000;
      Denoiser real = ConsistencyLossTest.GAUSS.denoiser();
      NDArray x = ConsistencyLossTest.data(m, n, 1).toType(DataType.FLOAT64, false);
      NDArray eps = ConsistencyLossTest.normals(m, n, 2).toType(DataType.FLOAT64, false);
      DistributionMatchingLoss dmd = new DistributionMatchingLoss("g", "f", "t", 0.002, 80,
          Objective.of("edm", org.diffusion4j.process.Edm.DEFAULT, 0.5), 1);
      double[] sigma = dmd.drawSigmas(n, new SplittableRandom(3));
      for (double s : sigma) {
        assertTrue(s > 0.002 && s < 80);
      }
      NDArray at = DistributionMatchingLoss.matchingGradient(real, real, x, sigma, eps, Conditioning.NONE);
      assertEquals(0, at.abs().max().getDouble(), 0, "p_fake = p_data: zero gradient, the minimum of the KL");
      // A generator shifted by δ: its exact score makes the mean gradient point along +δ, so descent removes it.
      double[] shift = {0.3, -0.2};
      double[] mean = ConsistencyLossTest.MEAN;
      GaussianMixture shifted = GaussianMixture.gaussian(new double[] {mean[0] + shift[0], mean[1] + shift[1]},
          ConsistencyLossTest.STD);
      NDArray xs = x.add(m.create(shift).reshape(1, 2));
      double[] g = DistributionMatchingLoss.matchingGradient(real, shifted.denoiser(), xs, sigma, eps,
          Conditioning.NONE).mean(new int[] {0}).toDoubleArray();
      double cos = (g[0] * shift[0] + g[1] * shift[1]) / Math.hypot(g[0], g[1]) / Math.hypot(shift[0], shift[1]);
      assertTrue(cos > 0.99, "mean gradient along the shift: cos " + cos);
      // Phases: with K = 3 the generator trains at steps 2, 5, 8, …; the fake score every step.
      DistributionMatchingLoss ttur = new DistributionMatchingLoss("g", "f", "t", 0.002, 80,
          Objective.of("edm", org.diffusion4j.process.Edm.DEFAULT, 0.5), 3);
      assertEquals(Set.of("f"), ttur.updates(0));
      assertEquals(Set.of("f"), ttur.updates(1));
      assertEquals(null, ttur.updates(2));
    }
  }

  @Test
  void aOneStepGeneratorMatchesTheGaussiansMeanAndSpread() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      NetworkDenoiser gen = new NetworkDenoiser(ConsistencyLossTest.net(m, 64), new Preconditioning.Consistency(0.5,
          0.002));
      NetworkDenoiser fake = new NetworkDenoiser(ConsistencyLossTest.net(m, 64), new Preconditioning.Edm(0.5));
      Map<String, NetworkDenoiser> nets = new LinkedHashMap<>();
      nets.put("generator", gen);
      nets.put("fake", fake);
      DistributionMatchingLoss loss = new DistributionMatchingLoss("generator", "fake", "teacher", 0.002, 80,
          Objective.of("edm", org.diffusion4j.process.Edm.DEFAULT, 0.5), 2);
      Trainer.Options opt = new Trainer.Options(600, 256, 1, new LrSchedule(2e-3, 20, true, 600, 1e-4), 1.0,
          new Ema.WarmUp(0.95), 42, 50, 1000);
      new Trainer(nets, Map.of("teacher", ConsistencyLossTest.GAUSS.denoiser()), Map.of(), loss,
          ConsistencyLossTest.batches(), opt, dir, "{}", null).run(false);
      NDArray z = ConsistencyLossTest.normals(m, 4000, 99).mul(80);
      NDArray x = gen.denoise(z, Denoiser.constant(4000, 80), Conditioning.NONE).toType(DataType.FLOAT64, false);
      double[] mu = x.mean(new int[] {0}).toDoubleArray();
      double[] sd = x.sub(x.mean(new int[] {0})).square().mean(new int[] {0}).sqrt().toDoubleArray();
      System.out.println("DMD one-step: mean " + java.util.Arrays.toString(mu) + ", std " + java.util.Arrays.toString(sd));
      // Measured mean (1.025, −0.450) vs (1, −0.5), std (0.524, 0.481) vs 0.5; random initial generator and fake score.
      double[] want = ConsistencyLossTest.MEAN;
      for (int j = 0; j < 2; j++) {
        assertEquals(want[j], mu[j], 0.08, "mean " + j);
        assertEquals(ConsistencyLossTest.STD, sd[j], 0.06, "std " + j);
      }
    }
  }
}
