package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.Mlp;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  private static final GaussianMixture DATA = GaussianMixture.gaussian(new double[] {0.7, -0.3}, 0.5);

  @TempDir Path dir;

  static Trainer.Batches gaussianBatches() {
    return (m, n, rng) -> {
      long[] seeds = new long[n];
      for (int i = 0; i < n; i++) {
        seeds[i] = rng.nextLong();
      }
      double[] x = DATA.sample(seeds, 0);
      return new DataSource.Batch(m.create(x, new Shape(n, 2)).toType(DataType.FLOAT32, false), null);
    };
  }

  static Mlp newNet(NDManager m, int hidden) {
    Engine.getInstance().setRandomSeed(7);
    Mlp net = new MlpConfig(2, hidden, 2, 16, 0).build();
    net.initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
    return net;
  }

  static Trainer.Options options(long steps, int checkpointEvery) {
    return new Trainer.Options(steps, 128, 1, LrSchedule.constant(2e-3, 20), 1.0, new Ema.WarmUp(0.999), 42, 1,
        checkpointEvery);
  }

  @Test
  void aTinyMlpLearnsTheExactDenoiserOfAGaussian() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Mlp net = newNet(m, 64);
      Objective o = Objective.of("edm", Edm.DEFAULT, 0.5);
      new Trainer(net, o, gaussianBatches(), options(600, 600), dir, "{}", null).run(false);
      NetworkDenoiser d = new NetworkDenoiser(net, o.preconditioning());
      long[] seeds = new long[256];
      for (int i = 0; i < seeds.length; i++) {
        seeds[i] = 10_000 + i;
      }
      for (double sigma : new double[] {0.2, 1.0, 5.0}) {
        double[] x = DATA.sample(seeds, sigma);
        double[] want = DATA.denoise(x, sigma);
        double[] got = d.denoise(m.create(x, new Shape(256, 2)), sigma).toDoubleArray();
        double err = 0;
        double scale = 0;
        for (int i = 0; i < x.length; i++) {
          err += Math.pow(got[i] - want[i], 2);
          scale += Math.pow(want[i] - x[i], 2);
        }
        // Relative error of the denoising step D − x̂ (what the network actually has to learn).
        double rel = Math.sqrt(err / scale);
        assertTrue(rel < 0.15, "σ=" + sigma + ": relative error " + rel);
      }
    }
  }

  @Test
  void resumedRunTakesTheSameStepsAsTheUninterruptedRun() throws Exception {
    List<Double> whole;
    try (NDManager m = NDManager.newBaseManager()) {
      whole = new Trainer(newNet(m, 32), Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(), options(20, 10),
          dir.resolve("a"), "{}", null).run(false);
    }
    List<Double> resumed = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      resumed.addAll(new Trainer(newNet(m, 32), Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(),
          options(10, 10), dir.resolve("b"), "{}", null).run(false));
    }
    try (NDManager m = NDManager.newBaseManager()) {
      // A fresh process: new network (different init would not matter: weights come from the checkpoint).
      Engine.getInstance().setRandomSeed(999);
      Mlp net = new MlpConfig(2, 32, 2, 16, 0).build();
      net.initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
      resumed.addAll(new Trainer(net, Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(), options(20, 10),
          dir.resolve("b"), "{}", null).run(true));
    }
    assertEquals(20, resumed.size());
    for (int i = 0; i < 20; i++) {
      assertEquals(whole.get(i), resumed.get(i), 0, "loss at step " + i);
    }
    long lines = Files.readAllLines(dir.resolve("b").resolve("metrics.jsonl")).size();
    assertEquals(20, lines, "metrics.jsonl reads like one run");
  }

  @Test
  void memoryStaysFlatOverALongRun() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Mlp net = newNet(m, 32);
      int[] counts = new int[81];
      new Trainer(net, Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(), options(80, 1000), dir,
          "{}", new Trainer.Listener() {
            @Override
            public void onLog(Trainer.StepLog log) {
              counts[(int) log.step()] = m.getManagedArrays().size();
            }
          }).run(false);
      assertTrue(counts[80] <= counts[10] + 2, "live arrays grew from " + counts[10] + " to " + counts[80]);
    }
  }

  @Test
  void corruptCheckpointGivesAClearErrorAndLeavesTheRunIntact() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      new Trainer(newNet(m, 16), Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(), options(5, 5), dir,
          "{}", null).run(false);
      Path w = dir.resolve(Checkpoint.WEIGHTS);
      byte[] bytes = Files.readAllBytes(w);
      Files.write(w, java.util.Arrays.copyOf(bytes, bytes.length / 2));
      byte[] metrics = Files.readAllBytes(dir.resolve("metrics.jsonl"));
      var e = assertThrows(IllegalArgumentException.class,
          () -> new Trainer(newNet(m, 16), Objective.of("edm", Edm.DEFAULT, 0.5), gaussianBatches(), options(10, 5),
              dir, "{}", null).run(true));
      assertTrue(e.getMessage().contains(Checkpoint.WEIGHTS), e.getMessage());
      assertEquals(bytes.length / 2, Files.size(w), "the corrupt file is left for inspection, not overwritten");
      assertEquals(new String(metrics), Files.readString(dir.resolve("metrics.jsonl")));
    }
  }
}
