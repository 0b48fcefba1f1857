package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.loss.Objective;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A wall-clock budget ends a run at a full step with a checkpoint equal to a run of that many steps. */
class TrainerBudgetTest {
  private static final Objective EDM = Objective.of("edm", Edm.DEFAULT, 0.5);

  @TempDir Path dir;

  private static Trainer trainer(NDManager m, long steps, Path run, AtomicLong batches) {
    Trainer.Batches data = TrainerTest.gaussianBatches();
    Trainer.Batches counted = (mm, n, rng) -> {
      batches.incrementAndGet();
      return data.next(mm, n, rng);
    };
    // No periodic checkpoint before the budget ends: the one at the stop is the budget's own.
    return new Trainer(TrainerTest.newNet(m, 32), EDM, counted, TrainerTest.options(steps, 1_000_000), run, "{}", null);
  }

  @Test
  void aSpentBudgetStopsAtAFullStepWhoseCheckpointResumesExactly() throws Exception {
    Duration budget = Duration.ofMillis(300);
    AtomicLong drawn = new AtomicLong();
    List<Double> losses;
    long k;
    long t0 = System.nanoTime();
    try (NDManager m = NDManager.newBaseManager()) {
      Trainer t = trainer(m, 1_000_000, dir.resolve("budget"), drawn).budget(budget);
      losses = t.run(false);
      k = t.lastCheckpoint();
      assertTrue(t.budgetSpent(), "the run ended by its budget");
      assertTrue(t.lastRunTime().compareTo(budget) >= 0, "stopped after " + t.lastRunTime() + ", before the budget");
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(k >= 1 && k < 1_000_000, "steps reached " + k);
    assertEquals(k, losses.size(), "every step taken is a full step");
    assertEquals(k, drawn.get(), "no step was started and abandoned");
    assertEquals(k, Checkpoint.load(dir.resolve("budget")).step());
    assertTrue(seconds < 30, "a 0.3 s budget ended after " + seconds + " s");

    // The checkpoint is that of a plain k-step run, weights, EMA and optimiser state bit for bit.
    try (NDManager m = NDManager.newBaseManager()) {
      Trainer plain = trainer(m, k, dir.resolve("plain"), new AtomicLong());
      List<Double> want = plain.run(false);
      assertFalse(plain.budgetSpent());
      assertEquals(want, losses);
    }
    Checkpoint a = Checkpoint.load(dir.resolve("budget"));
    Checkpoint b = Checkpoint.load(dir.resolve("plain"));
    for (Map.Entry<String, Map<String, Tensor>[]> e : Map.of("weights", pair(a.weights(), b.weights()), "ema",
        pair(a.ema(), b.ema()), "optimizer", pair(a.optimizer(), b.optimizer())).entrySet()) {
      Map<String, Tensor> x = e.getValue()[0];
      Map<String, Tensor> y = e.getValue()[1];
      assertEquals(y.keySet(), x.keySet(), e.getKey());
      for (String name : y.keySet()) {
        assertArrayEquals(y.get(name).data(), x.get(name).data(), e.getKey() + " " + name);
      }
    }
    assertEquals(b.state(), a.state());

    // Resumed past the budget's stop, it takes the steps an uninterrupted run takes.
    List<Double> resumed;
    try (NDManager m = NDManager.newBaseManager()) {
      resumed = trainer(m, k + 5, dir.resolve("budget"), new AtomicLong()).run(true);
    }
    List<Double> whole;
    try (NDManager m = NDManager.newBaseManager()) {
      whole = trainer(m, k + 5, dir.resolve("whole"), new AtomicLong()).run(false);
    }
    assertEquals(whole.subList((int) k, (int) k + 5), resumed);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Tensor>[] pair(Map<String, Tensor> a, Map<String, Tensor> b) {
    return new Map[] {a, b};
  }

  @Test
  void aBudgetMustBePositive() {
    try (NDManager m = NDManager.newBaseManager()) {
      Trainer t = trainer(m, 10, dir.resolve("x"), new AtomicLong());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.budget(Duration.ZERO));
      assertTrue(e.getMessage().contains("PT0S") && e.getMessage().contains("> 0"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> t.budget(Duration.ofSeconds(-1)));
    }
  }
}
