package org.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.nn.MlpConfig;

/** What the tests of runs built on a trained run share: a small two-bump reference run and weight equality. */
public final class RunFixtures {
  private RunFixtures() {}

  /** Two well separated components of equal weight at (∓1.5, 0), std 0.3. */
  public static final GaussianMixture TWO_BUMPS = new GaussianMixture(new double[] {0.5, 0.5},
      new double[][] {{-1.5, 0}, {1.5, 0}}, new double[] {0.3, 0.3});

  /** An EDM run on {@link #TWO_BUMPS} (seed 3, lr 3e-3, one checkpoint at the end) in {@code dir/name}. */
  public static Path trainTwoBumps(Path dir, String name, MlpConfig net, int steps, int batch) throws IOException {
    Path gmm = dir.resolve("gmm.json");
    Files.writeString(gmm, TWO_BUMPS.toJson());
    Path run = dir.resolve(name);
    Training.on("gmm:" + gmm).network(net).steps(steps).batch(batch).lr(3e-3).seed(3).logEvery(steps)
        .checkpointEvery(steps).train(run).close();
    return run;
  }

  /** The two runs hold the same tensors, bit for bit (EMA or raw weights). */
  public static void assertSameWeights(Path a, Path b, boolean ema) throws IOException {
    Map<String, Tensor> wa = Checkpoint.readWeights(a, ema);
    Map<String, Tensor> wb = Checkpoint.readWeights(b, ema);
    assertEquals(wa.keySet(), wb.keySet());
    for (String k : wa.keySet()) {
      assertArrayEquals(wa.get(k).data(), wb.get(k).data(), k);
    }
  }
}
