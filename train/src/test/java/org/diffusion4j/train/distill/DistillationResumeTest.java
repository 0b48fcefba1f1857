package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.train.RunFixtures;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A distillation killed part-way and continued with {@link Distillation#resume} takes exactly the steps of an
 * uninterrupted one: every network of the run (student, fake score, adaptive weight), its optimiser and EMA.
 */
class DistillationResumeTest {
  @TempDir static Path dir;
  static Path teacher;

  @BeforeAll
  static void trainTeacher() throws Exception {
    teacher = RunFixtures.trainTwoBumps(dir, "teacher", new MlpConfig(2, 16, 1, 8, 0), 40, 64);
  }

  private static Distillation distillation(String method) {
    Distillation d = Distillation.from(teacher).method(method).steps(20).batch(32).levels(6).seed(5);
    if (method.equals("dmd")) {
      d.fakeUpdates(2).regression(0.25, 40);
    }
    if (method.equals("mf")) {
      d.meanFlowUnequal(0.5).meanFlowPower(0.5); // not the defaults: resume must restore them
    }
    return d;
  }

  /** A crash at step 11: the run keeps its checkpoint of step 8 (one every 20/5 steps). */
  private static final class Crash extends RuntimeException {
    Crash() {
      super("simulated crash");
    }
  }

  @Test
  void killedAndResumedDistillationsEqualUninterruptedOnes() throws Exception {
    for (String method : new String[] {"cd", "scd", "dmd", "mf"}) {
      Path straight = dir.resolve(method + "-straight");
      distillation(method).run(straight).close();
      Path split = dir.resolve(method + "-split");
      Distillation d = distillation(method).listener(new Trainer.Listener() {
        @Override
        public void onLog(Trainer.StepLog log) {
          if (log.step() == 10) {
            throw new Crash();
          }
        }
      });
      assertThrows(Crash.class, () -> d.run(split), method);
      assertEquals(8, Checkpoint.readWeightsWithStep(split, false).getKey(), method);
      assertTrue(Distillation.isDistillationRun(split), method);
      java.util.List<Long> logged = new java.util.ArrayList<>();
      try (var s = Distillation.resume(split, null, new Trainer.Listener() {
        @Override
        public void onLog(Trainer.StepLog log) {
          logged.add(log.step());
        }
      })) {
        assertEquals(20, s.step(), method);
      }
      assertEquals(9, logged.get(0), method + ": continued after the checkpoint of step 8, not from the start");
      assertEquals(12, logged.size(), method);
      RunFixtures.assertSameWeights(straight, split, false);
      RunFixtures.assertSameWeights(straight, split, true);
      assertEquals(Files.readString(straight.resolve("metrics.jsonl")).lines().count(),
          Files.readString(split.resolve("metrics.jsonl")).lines().count(), method + ": one line per step, no repeats");
    }
  }

  @Test
  void resumeExtendsARunAndRefusesWhatItCannotContinue() throws Exception {
    Path run = dir.resolve("cd-extend");
    distillation("cd").run(run).close();
    try (var s = Distillation.resume(run, 26L, null)) {
      assertEquals(26, s.step());
    }
    assertFalse(Distillation.isDistillationRun(teacher));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Distillation.resume(teacher, null, null));
    assertTrue(e.getMessage().contains("holds no distillation run") && e.getMessage().contains("d4j train"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Distillation.resume(dir.resolve("nothing"), null, null));
    assertTrue(e.getMessage().contains("no config.json"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Distillation.resume(run, 0L, null));
    assertTrue(e.getMessage().contains("--steps must be >= 1, got 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Distillation.from(teacher).meanFlowPower(-0.5));
    assertTrue(e.getMessage().contains("--mf-power must be finite and >= 0, got -0.5"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Distillation.from(teacher).meanFlowUnequal(1.5));
    assertTrue(e.getMessage().contains("--mf-unequal must lie in [0, 1], got 1.5"), e.getMessage());
  }
}
