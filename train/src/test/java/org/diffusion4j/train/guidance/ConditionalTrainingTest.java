package org.diffusion4j.train.guidance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.guidance.ClassifierFreeGuidance;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Class-conditional training with label dropout: one network learns each class and the whole data. */
class ConditionalTrainingTest {
  @TempDir Path dir;

  /** Two classes, left (x ≈ −2) and right (x ≈ +2), two components each. */
  static LabelledMixture leftRight() {
    return new LabelledMixture(new GaussianMixture(new double[] {1, 1, 1, 1},
        new double[][] {{-2, 1}, {-2, -1}, {2, 1}, {2, -1}}, new double[] {0.3, 0.3, 0.3, 0.3}),
        new int[] {0, 0, 1, 1});
  }

  static Path write(Path dir, LabelledMixture lm) throws Exception {
    Path f = dir.resolve("lr.json");
    Files.writeString(f, lm.toJson());
    return f;
  }

  @Test
  void labelDropoutRateAndDraws() {
    long[] labels = new long[200_000];
    java.util.Arrays.fill(labels, 3);
    long[] d = DenoisingLoss.dropLabels(labels, 0.1, new SplittableRandom(5));
    long dropped = java.util.Arrays.stream(d).filter(l -> l == Conditioning.NULL_LABEL).count();
    assertEquals(0.1, dropped / 200_000.0, 0.003);
    assertTrue(java.util.Arrays.stream(d).allMatch(l -> l == 3 || l == Conditioning.NULL_LABEL));
    // The same generator drops the same labels (resume), and p = 0 draws nothing.
    assertArrayEquals(d, DenoisingLoss.dropLabels(labels, 0.1, new SplittableRandom(5)));
    SplittableRandom a = new SplittableRandom(9);
    assertSame(labels, DenoisingLoss.dropLabels(labels, 0, a));
    assertEquals(new SplittableRandom(9).nextLong(), a.nextLong());
    assertThrows(IllegalArgumentException.class, () -> Training.on("two-moons").labelDropout(1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Training.on("two-moons").labelDropout(0.2).plan());
    assertTrue(e.getMessage().contains("class-conditional"), e.getMessage());
  }

  @Test
  void conditionalTrainingWithLabelDropoutLearnsBothModels() throws Exception {
    Path data = write(dir, leftRight());
    Path run = dir.resolve("run");
    try (TrainedModel tm = Training.on("gmm:" + data).classConditional(true).network(new MlpConfig(2, 48, 2, 16, 2))
        .steps(300).batch(128).lr(4e-3).warmup(30).seed(3).train(run)) {
      assertEquals(2, tm.config().classes());
      assertEquals(0.1, tm.config().labelDropout());
      assertTrue(Checkpoint.readConfig(run).replace(" ", "").contains("\"label_dropout\":0.1"));
      int n = 200;
      double[] right = new double[3];
      long[][] cond = {new long[n], new long[n], new long[n]};
      java.util.Arrays.fill(cond[1], 1);
      java.util.Arrays.fill(cond[2], Conditioning.NULL_LABEL);
      for (int k = 0; k < 3; k++) {
        double[] s = Sampling.of(tm.denoiser(), 2).sampler(SamplerRegistry.create("heun", Map.of()))
            .grid(GridSpec.karras().build(tm.config().process(), 18)).seeds(0, n - 1)
            .conditioning(Conditioning.ofLabels(cond[k])).run().samples();
        for (int i = 0; i < n; i++) {
          right[k] += s[2 * i] > 0 ? 1.0 / n : 0;
        }
      }
      // Class 0 lands left, class 1 right, the null label on both sides.
      assertTrue(right[0] < 0.08 && right[1] > 0.92 && right[2] > 0.25 && right[2] < 0.75,
          java.util.Arrays.toString(right));
      // Guidance on the trained model sharpens class 0 further.
      double[] g = Sampling.of(new ClassifierFreeGuidance(tm.denoiser(), 3), 2)
          .sampler(SamplerRegistry.create("heun", Map.of())).grid(GridSpec.karras().build(tm.config().process(), 18))
          .seeds(0, n - 1).conditioning(Conditioning.ofLabels(cond[0])).run().samples();
      double gr = 0;
      for (int i = 0; i < n; i++) {
        gr += g[2 * i] > 0 ? 1.0 / n : 0;
      }
      assertTrue(gr <= right[0], gr + " vs " + right[0]);
    }
  }

  private static java.util.List<String> losses(Path run) throws Exception {
    return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
        .map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).toList();
  }

  private static Training small(Path data, long steps) {
    return Training.on("gmm:" + data).classConditional(true).labelDropout(0.5).network(new MlpConfig(2, 16, 1, 8, 2))
        .batch(32).seed(11).lrSchedule("constant").warmup(1).checkpointEvery(3).logEvery(1).steps(steps);
  }

  @Test
  void aResumedConditionalRunDropsTheSameLabels() throws Exception {
    Path data = write(dir, leftRight());
    small(data, 6).train(dir.resolve("a")).close();
    small(data, 3).train(dir.resolve("b")).close();
    try (TrainedModel resumed = Training.resume(dir.resolve("b")).steps(6).train()) {
      assertEquals(0.5, resumed.config().labelDropout());
    }
    assertEquals(6, losses(dir.resolve("a")).size());
    assertEquals(losses(dir.resolve("a")), losses(dir.resolve("b")));
    // Dropout changes the run: the same run without it takes other steps.
    Training none = Training.on("gmm:" + data).classConditional(true).labelDropout(0).network(new MlpConfig(2, 16, 1, 8, 2))
        .batch(32).seed(11).lrSchedule("constant").warmup(1).checkpointEvery(3).logEvery(1).steps(6);
    none.train(dir.resolve("c")).close();
    assertTrue(!losses(dir.resolve("a")).equals(losses(dir.resolve("c"))));
  }
}
