package org.diffusion4j.train.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.train.RunFixtures;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resuming fine-tuning runs, stored and image-folder pairs, and reward models as rewards and scorers. */
class AlignmentResumeTest {
  static final GaussianMixture GM = RunFixtures.TWO_BUMPS;

  @TempDir static Path dir;
  static Path reference;

  @BeforeAll
  static void trainReference() throws Exception {
    reference = RunFixtures.trainTwoBumps(dir, "ref", new MlpConfig(2, 16, 1, 8, 0), 60, 128);
  }

  private static TrainSettings settings(long steps) {
    return new TrainSettings(steps, 32, 1, 1e-3, 0, "constant", 1.0, 0.99, 0, 5, (int) steps, (int) steps);
  }

  private static PreferencePairs pairs(int n) {
    long[] s = Sampling.seeds(0, n);
    double[] left = GaussianMixture.gaussian(new double[] {-1.5, 0}, 0.3).sample(s, 0);
    double[] right = GaussianMixture.gaussian(new double[] {1.5, 0}, 0.3).sample(Sampling.seeds(n, n), 0);
    return new PreferencePairs(left, right, new long[] {2}, null);
  }

  @Test
  void resumedDpoAndRewardWeightedRunsEqualUninterruptedOnes() throws Exception {
    PreferencePairs p = pairs(200);
    Path straight = dir.resolve("dpo-straight");
    Alignment.dpo(reference, p, 20, false, settings(12), straight, null).close();
    Path split = dir.resolve("dpo-split");
    Alignment.dpo(reference, p, 20, false, settings(6), split, null).close();
    assertTrue(Files.isRegularFile(split.resolve(Alignment.PAIRS)));
    Alignment.resume(split, 12L, null).close();
    RunFixtures.assertSameWeights(straight, split, false);

    double[] samples = GM.sample(Sampling.seeds(0, 300), 0);
    Path rwStraight = dir.resolve("rw-straight");
    Alignment.rewardWeighted(reference, samples, "near:-1.5,0", 0.25, 1.0, settings(10), rwStraight, null).close();
    Path rwSplit = dir.resolve("rw-split");
    Alignment.rewardWeighted(reference, samples, "near:-1.5,0", 0.25, 1.0, settings(5), rwSplit, null).close();
    Alignment.resume(rwSplit, 10L, null).close();
    RunFixtures.assertSameWeights(rwStraight, rwSplit, false);

    Path noScorer = dir.resolve("rw-object");
    Alignment.rewardWeighted(reference, samples, Scorer.component(GM, 0), 0.25, 1.0, settings(2), noScorer, null)
        .close();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Alignment.resume(noScorer, 4L, null));
    assertTrue(e.getMessage().contains("does not record its scorer"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Alignment.resume(reference, 4L, null));
    assertTrue(e.getMessage().contains("holds no fine-tuning run"), e.getMessage());
  }

  @Test
  void storedPairsRoundTripAndImageFolderPairsRead() throws Exception {
    PreferencePairs p = new PreferencePairs(new double[] {1, 2, 3, 4}, new double[] {5, 6, 7, 8}, new long[] {2},
        new long[] {3, 1});
    Path f = dir.resolve("stored.npy");
    p.write(f);
    assertEquals(p, PreferencePairs.readStored(f));

    Path folder = dir.resolve("prefs");
    Files.createDirectories(folder.resolve("img"));
    for (int i = 0; i < 2; i++) {
      BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 3; x++) {
          int g = 40 * i + 10 * x + y;
          img.setRGB(x, y, g << 16 | g << 8 | g);
        }
      }
      ImageIO.write(img, "png", folder.resolve("img").resolve(i + ".png").toFile());
    }
    Path csv = folder.resolve("pairs.csv");
    Files.writeString(csv, "preferred,rejected,label\nimg/1.png,img/0.png,4\nimg/0.png,img/1.png,2\n");
    PreferencePairs q = PreferencePairs.readCsv(csv, new long[] {1, 2, 3}, 1 / 127.5, -1);
    assertEquals(2, q.size());
    assertArrayEquals(new long[] {4, 2}, q.labels());
    assertEquals((40 + 10 * 2 + 1) / 127.5 - 1, q.preferred()[5], 1e-12);
    assertEquals(0 / 127.5 - 1, q.rejected()[0], 1e-12);
    Files.writeString(csv, "img/1.png,img/9.png\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PreferencePairs.readCsv(csv, new long[] {1, 2, 3}, 1, 0));
    assertTrue(e.getMessage().contains("line 1") && e.getMessage().contains("no such image"), e.getMessage());
    Files.writeString(csv, "img/1.png,img/0.png\n");
    e = assertThrows(IllegalArgumentException.class, () -> PreferencePairs.readCsv(csv, new long[] {1, 4, 4}, 1, 0));
    assertTrue(e.getMessage().contains("is 3×2 but the model's samples are 4×4"), e.getMessage());
    Files.writeString(csv, "img/1.png\n");
    e = assertThrows(IllegalArgumentException.class, () -> PreferencePairs.readCsv(csv, new long[] {1, 2, 3}, 1, 0));
    assertTrue(e.getMessage().contains("expected preferred,rejected[,label]"), e.getMessage());
  }

  @Test
  void aRewardModelIsADifferentiableRewardAndAScorer() throws Exception {
    PreferencePairs[] split = pairs(400).split(320);
    Path out = dir.resolve("reward");
    Alignment.Reward r = Alignment.trainReward(split[0], split[1], new MlpConfig(2, 16, 1, 8, 0), settings(100), out,
        null);
    assertTrue(r.heldOutAccuracy() > 0.95, "held-out accuracy " + r.heldOutAccuracy());
    try (RewardModel rm = RewardModel.load(out); NDManager m = NDManager.newBaseManager()) {
      double[] x = {-1.5, 0, 1.5, 0};
      double[] host = rm.scorer().score(x, 2);
      assertTrue(host[0] > host[1], "left preferred: " + host[0] + " vs " + host[1]);
      NDArray xs = m.create(x, new Shape(2, 2)).toType(DataType.FLOAT32, false);
      xs.setRequiresGradient(true);
      double[] dev;
      try (ai.djl.training.GradientCollector gc = m.getEngine().newGradientCollector()) {
        NDArray v = rm.reward().value(xs);
        dev = v.toType(DataType.FLOAT64, false).toDoubleArray();
        gc.backward(v.sum());
      }
      assertEquals(host[0], dev[0], 1e-6);
      // The gradient points left (toward the preferred component) somewhere between them.
      double[] g = xs.getGradient().toType(DataType.FLOAT64, false).toDoubleArray();
      assertTrue(Double.isFinite(g[0]) && Double.isFinite(g[2]));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RewardModel.load(reference));
    assertTrue(e.getMessage().contains("not a reward model"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Scorer.parse("digit:12"));
    assertTrue(e.getMessage().contains("a digit is 0…9"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Scorer.parse("digit:x"));
    assertTrue(e.getMessage().contains("digit:7"), e.getMessage());
  }

  /** Seed lists. */
  static final class Sampling {
    static long[] seeds(long from, int n) {
      long[] s = new long[n];
      for (int i = 0; i < n; i++) {
        s[i] = from + i;
      }
      return s;
    }
  }
}
