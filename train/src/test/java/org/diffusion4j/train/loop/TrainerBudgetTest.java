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
  void aCosineScheduleDecaysWithTheBudgetAndAConstantOneDoesNot() throws Exception {
    for (boolean cosine : new boolean[] {true, false}) {
      LrSchedule lr = cosine ? LrSchedule.cosine(2e-3, 5, 1_000_000) : LrSchedule.constant(2e-3, 5);
      Trainer.Options o = new Trainer.Options(1_000_000, 128, 1, lr, 1.0, new Ema.WarmUp(0.999), 42, 1, 1_000_000);
      List<Trainer.StepLog> logs = new java.util.ArrayList<>();
      try (NDManager m = NDManager.newBaseManager()) {
        Trainer t = new Trainer(TrainerTest.newNet(m, 32), EDM, TrainerTest.gaussianBatches(), o,
            dir.resolve("lr-" + cosine), "{}", new Trainer.Listener() {
              @Override
              public void onLog(Trainer.StepLog log) {
                logs.add(log);
              }
            }).budget(Duration.ofMillis(1500));
        t.run(false);
        assertTrue(t.budgetSpent());
      }
      assertTrue(logs.size() > 40, "steps in 1.5 s: " + logs.size());
      Trainer.StepLog last = logs.get(logs.size() - 1);
      Trainer.StepLog mid = logs.get(logs.size() / 2);
      if (cosine) {
        // By steps alone the cosine would still be at 2e-3 (a millionth of the way); the clock ends it.
        assertTrue(last.lr() < 0.1 * 2e-3, "last lr " + last.lr() + " at step " + last.step());
        assertTrue(logs.get(5).lr() > 0.5 * 2e-3, "the first step after warm-up: lr " + logs.get(5).lr());
        assertTrue(mid.lr() < 2e-3, "mid-run lr " + mid.lr());
        for (int i = 6; i < logs.size(); i++) {
          assertTrue(logs.get(i).lr() <= logs.get(i - 1).lr(), "lr rose at step " + logs.get(i).step());
        }
      } else {
        assertEquals(2e-3, last.lr(), 0);
      }
      assertEquals(0.8e-3, logs.get(2).lr(), 1e-12, "warm-up is in steps: step 2 of 5 takes lr·2/5");
    }
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
