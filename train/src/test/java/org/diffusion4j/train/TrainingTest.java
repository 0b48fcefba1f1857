package org.diffusion4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.UNetConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training facade: the command line's defaults, and a stopped run resumed with no flags. */
class TrainingTest {
  @TempDir Path dir;

  private static Training small() {
    return Training.on("8-gaussians").network(new MlpConfig(2, 16, 1, 8, 0)).steps(12).batch(32).seed(7)
        .checkpointEvery(6).logEvery(1).lr(1e-3);
  }

  private static List<String> losses(Path run) throws Exception {
    return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
        .map(l -> l.replaceAll(".*\"loss\":([^,]*),.*", "$1")).collect(Collectors.toList());
  }

  @Test
  void defaultsFollowTheDataAndTheObjective() throws Exception {
    RunConfig points = Training.on("two-moons").plan().config();
    assertEquals(512, points.training().batch());
    assertEquals(2e-3, points.training().lr());
    assertEquals(4000, points.training().steps());
    assertEquals("edm", points.process().id());
    assertTrue(points.network() instanceof MlpConfig);
    assertTrue(points.sigmaData() > 0.3 && points.sigmaData() < 1.5, "σ_data measured: " + points.sigmaData());
    assertEquals("flow", Training.on("two-moons").objective("flow").plan().config().process().id());
    assertEquals("ve", Training.on("two-moons").objective("ve").plan().config().process().id());
    assertEquals("vp", Training.on("two-moons").objective("eps").plan().config().process().id());
    assertTrue(Training.defaultNetwork(new long[] {1, 28, 28}, 10) instanceof UNetConfig);
    assertEquals(0.5, Training.on("two-moons").sigmaData(0.5).plan().config().sigmaData());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Training.on("two-moons").objective("nope"));
    assertTrue(e.getMessage().contains("flow"), e.getMessage());
  }

  @Test
  void aStoppedRunResumedWithNoOptionsRetakesTheUninterruptedSteps() throws Exception {
    Path a = dir.resolve("a");
    small().train(a).close();
    Path b = dir.resolve("b");
    Trainer[] t = {null};
    Training stopping = small().listener(new Trainer.Listener() {
      @Override
      public void onLog(Trainer.StepLog s) {
        if (s.step() == 4) {
          t[0].requestStop();
        }
      }
    });
    stopping.run(stopping.plan(), b, tr -> t[0] = tr).close();
    assertEquals(4, t[0].lastCheckpoint(), "the stop wrote a checkpoint at the step it stopped at");
    assertEquals(4, losses(b).size());
    try (TrainedModel m = Training.resume(b).train()) {
      assertEquals(12, m.step());
    }
    assertEquals(losses(a), losses(b), "plain resume takes exactly the uninterrupted run's steps");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Training.resume(b).batch(64).plan());
    assertTrue(e.getMessage().contains("keeps everything"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> small().train(b));
    assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
  }
}
