package org.diffusion4j.train.guidance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.guidance.ClassifierGuidance;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.ClassifierLoss;
import org.diffusion4j.train.loss.SigmaDraw;
import org.diffusion4j.train.nn.ClassifierMlp;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The noise-conditional classifier: its input gradients, its training loss, and guidance with it. */
class ClassifierTest {
  @TempDir Path dir;

  private static final Preconditioning INPUT = new Preconditioning.Edm(1.5);

  private static ClassifierMlp newNet(NDManager m, int hidden) {
    Engine.getInstance().setRandomSeed(5);
    ClassifierMlp net = new ClassifierMlp(2, hidden, 2, 16, 2);
    net.initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
    return net;
  }

  @Test
  void inputGradientsMatchFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      NetworkClassifier c = new NetworkClassifier(newNet(m, 32), INPUT, 2);
      double[] x = {0.3, -1.2, 2.0, 0.5, -0.7, 0.1};
      double[] sigma = {0.05, 0.8, 4};
      long[] y = {1, 0, 1};
      double[] g = c.logProbGradient(m.create(x, new Shape(3, 2)), sigma, y).toDoubleArray();
      double h = 1e-2;
      double largest = 0;
      for (int j = 0; j < x.length; j++) {
        double[] p = x.clone();
        double[] q = x.clone();
        p[j] += h;
        q[j] -= h;
        double fd = (c.logProb(m.create(p, new Shape(3, 2)), sigma, y)[j / 2]
            - c.logProb(m.create(q, new Shape(3, 2)), sigma, y)[j / 2]) / (2 * h);
        assertEquals(fd, g[j], 1e-3 + 1e-2 * Math.abs(fd), "value " + j);
        largest = Math.max(largest, Math.abs(g[j]));
      }
      assertTrue(largest > 1e-3, "a vanishing gradient tests nothing: " + largest);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> c.logProbGradient(m.create(x, new Shape(3, 2)), sigma, new long[] {0, 2, 1}));
      assertTrue(e.getMessage().contains("class 2"), e.getMessage());
    }
  }

  @Test
  void imageClassifierInputGradientsMatchFiniteDifferences() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(7);
      org.diffusion4j.train.nn.ClassifierCnn net = new org.diffusion4j.train.nn.ClassifierCnn(1, 4, 3);
      net.initialize(m, DataType.FLOAT32, new Shape(2, 1, 6, 6), new Shape(2));
      NetworkClassifier c = new NetworkClassifier(net, INPUT, 3);
      double[] x = new double[72];
      for (int i = 0; i < x.length; i++) {
        x[i] = Math.sin(1.7 * i);
      }
      double[] sigma = {0.1, 2};
      long[] y = {2, 0};
      Shape s = new Shape(2, 1, 6, 6);
      double[] g = c.logProbGradient(m.create(x, s), sigma, y).toDoubleArray();
      double h = 1e-2;
      double largest = 0;
      for (int j : new int[] {0, 7, 14, 21, 35, 36, 50, 71}) {
        double[] p = x.clone();
        double[] q = x.clone();
        p[j] += h;
        q[j] -= h;
        double fd = (c.logProb(m.create(p, s), sigma, y)[j / 36] - c.logProb(m.create(q, s), sigma, y)[j / 36]) / (2 * h);
        assertEquals(fd, g[j], 2e-3 + 2e-2 * Math.abs(fd), "value " + j);
        largest = Math.max(largest, Math.abs(g[j]));
      }
      assertTrue(largest > 1e-4, "a vanishing gradient tests nothing: " + largest);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> net.forward(new ai.djl.training.ParameterStore(m, false),
              new ai.djl.ndarray.NDList(m.zeros(new Shape(1, 2, 6, 6)), m.zeros(new Shape(1))), false));
      assertTrue(e.getMessage().contains("ClassifierCnn(1 channels)"), e.getMessage());
    }
  }

  @Test
  void aTrainedNoisyClassifierApproachesTheExactOneAndGuides() throws Exception {
    LabelledMixture lm = ConditionalTrainingTest.leftRight();
    int[] componentClass = lm.labels();
    Trainer.Batches batches = (m, n, rng) -> {
      long[] seeds = new long[n];
      for (int i = 0; i < n; i++) {
        seeds[i] = rng.nextLong();
      }
      int[] k = lm.mixture().components(seeds);
      long[] labels = new long[n];
      for (int i = 0; i < n; i++) {
        labels[i] = componentClass[k[i]];
      }
      return new DataSource.Batch(m.create(lm.mixture().sample(seeds, 0), new Shape(n, 2)).toType(DataType.FLOAT32,
          false), m.create(labels));
    };
    try (NDManager m = NDManager.newBaseManager()) {
      ClassifierMlp net = newNet(m, 64);
      Trainer t = new Trainer(Map.of("classifier", new NetworkDenoiser(net, INPUT)), Map.of(), Map.of(),
          new ClassifierLoss(new SigmaDraw.LogUniform(0.002, 100), "classifier"), batches,
          new Trainer.Options(300, 256, 1, LrSchedule.constant(3e-3, 20), 1.0, new Ema.WarmUp(0.99), 1, 50, 300),
          dir, "{}", null);
      List<Double> losses = t.run(false);
      assertTrue(losses.get(losses.size() - 1) < 0.5 * losses.get(0), losses.toString());
      NetworkClassifier c = new NetworkClassifier(net, INPUT, 2);
      // Against the exact component posterior on noisy data at several σ.
      double err = 0;
      int count = 0;
      for (double s : new double[] {0.1, 1, 3}) {
        double[] x = lm.mixture().sample(Sampling.seedRange(1000, 1199), s);
        double[] sigma = Denoiser.constant(200, s);
        long[] ones = new long[200];
        java.util.Arrays.fill(ones, 1);
        double[] mine = c.logProb(m.create(x, new Shape(200, 2)), sigma, ones);
        double[] exact = lm.classifier().logProb(m.create(x, new Shape(200, 2)), sigma, ones);
        for (int i = 0; i < 200; i++) {
          err += Math.abs(Math.exp(mine[i]) - Math.exp(exact[i]));
          count++;
        }
      }
      assertTrue(err / count < 0.06, "mean |p − p_exact| = " + err / count);
      // Guidance of the exact unconditional model with the trained classifier samples class 1.
      int n = 100;
      double[] s = Sampling.of(new ClassifierGuidance(lm.mixture().denoiser(), c, 1), 2)
          .sampler(SamplerRegistry.create("heun", Map.of())).grid(GridSpec.karras().build(Processes.byId("edm"), 18))
          .seeds(0, n - 1).conditioning(Conditioning.label(1, n)).run().samples();
      int right = 0;
      for (int i = 0; i < n; i++) {
        right += s[2 * i] > 0 ? 1 : 0;
      }
      // Measured 90 (the exact classifier: all 100; unguided about half).
      assertTrue(right >= 85, right + " of " + n + " guided samples in class 1");
    }
  }
}
