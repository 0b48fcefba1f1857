package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer is a loop over any {@link TrainingLoss}: several trainable networks, a frozen one, an
 * EMA target network, all checkpointed and resumed bit for bit; and the loss uses the same
 * preconditioned forward as sampling.
 */
class PluggableTrainerTest {
  @TempDir Path dir;

  private static final Objective EDM = Objective.of("edm", Edm.DEFAULT, 0.5);

  /**
   * A two-network loss in the shape of distillation: "student" and "model" are each trained with the EDM
   * loss, the student is also pulled toward the frozen teacher, and "model" toward its own EMA target.
   */
  private static final TrainingLoss TWO = ctx -> {
    TrainingLoss.Value a = new DenoisingLoss(EDM, "model").compute(ctx);
    TrainingLoss.Value b = new DenoisingLoss(EDM, "student").compute(ctx);
    NDArray x = ctx.batch().x();
    double[] sigma = Denoiser.constant(x.getShape().get(0), 0.8);
    NDArray teacher = ctx.frozen("teacher").denoise(x, sigma, Conditioning.NONE);
    NDArray student = ctx.trainable("student").forward(ctx.parameters(), true, x, sigma, Conditioning.NONE).denoised();
    NDArray target = ctx.target("model").denoise(x, sigma, Conditioning.NONE);
    NDArray model = ctx.trainable("model").forward(ctx.parameters(), true, x, sigma, Conditioning.NONE).denoised();
    NDArray distil = student.sub(teacher).square().mean();
    NDArray consistency = model.sub(target).square().mean();
    return new TrainingLoss.Value(a.loss().add(b.loss()).add(distil).add(consistency),
        Map.of("distil", (double) distil.getFloat(), "consistency", (double) consistency.getFloat()));
  };

  private List<Double> train(NDManager m, Path run, long steps, boolean resume, Map<String, float[]> finalWeights)
      throws Exception {
    Block teacherNet = TrainerTest.newNet(m, 16);
    Map<String, NetworkDenoiser> nets = new LinkedHashMap<>();
    nets.put("model", new NetworkDenoiser(TrainerTest.newNet(m, 16), EDM.preconditioning()));
    nets.put("student", new NetworkDenoiser(TrainerTest.newNet(m, 8), EDM.preconditioning()));
    Map<String, Function<NDManager, Block>> twins = Map.of("model", mm -> TrainerTest.newNet(mm, 16));
    Trainer t = new Trainer(nets, Map.of("teacher", new NetworkDenoiser(teacherNet, EDM.preconditioning())), twins, TWO,
        TrainerTest.gaussianBatches(), TrainerTest.options(steps, 5), run, "{\"test\":true}", null);
    List<Double> losses = t.run(resume);
    if (finalWeights != null) {
      nets.forEach((k, v) -> finalWeights.put(k, v.network().getParameters().get(0).getValue().getArray().toFloatArray()));
    }
    return losses;
  }

  @Test
  void severalNetworksWithFrozenAndTargetNetworksResumeBitForBit() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, float[]> whole = new LinkedHashMap<>();
      List<Double> a = train(m, dir.resolve("a"), 10, false, whole);
      List<Double> b = new ArrayList<>(train(m, dir.resolve("b"), 5, false, null));
      Map<String, float[]> resumed = new LinkedHashMap<>();
      b.addAll(train(m, dir.resolve("b"), 10, true, resumed));
      assertEquals(a, b, "losses of the resumed run equal the uninterrupted run's");
      for (String k : whole.keySet()) {
        assertTrue(java.util.Arrays.equals(whole.get(k), resumed.get(k)), k + " weights bit for bit");
      }
      assertNotEquals(whole.get("model")[0], whole.get("student")[0]);
      // Every trainable network is in the checkpoint: the primary with plain names, the other prefixed.
      Checkpoint c = Checkpoint.load(dir.resolve("b"));
      assertTrue(c.weights().keySet().stream().anyMatch(k -> k.startsWith("student/")), c.weights().keySet().toString());
      assertTrue(c.weights().keySet().stream().anyMatch(k -> !k.contains("/")));
      assertTrue(c.ema().keySet().stream().anyMatch(k -> k.startsWith("student/")));
      assertTrue(c.optimizer().keySet().stream().anyMatch(k -> k.startsWith("student/")));
      assertEquals("model,student", c.state().get("networks"));
      String metrics = java.nio.file.Files.readString(dir.resolve("b").resolve("metrics.jsonl"));
      assertTrue(metrics.contains("\"distil\":") && metrics.contains("\"grad_norm/student\":"), metrics);
    }
  }

  /** TWO, but "student" is updated only at odd steps (phases, as DMD's generator at 1 : K). */
  private static final TrainingLoss PHASED = new TrainingLoss() {
    @Override
    public Value compute(StepContext ctx) {
      return TWO.compute(ctx);
    }

    @Override
    public java.util.Set<String> updates(long step) {
      return step % 2 == 1 ? null : java.util.Set.of("model");
    }
  };

  private Map<String, float[]> trainPhased(NDManager m, Path run, long steps, boolean resume) throws Exception {
    Map<String, NetworkDenoiser> nets = new LinkedHashMap<>();
    nets.put("model", new NetworkDenoiser(TrainerTest.newNet(m, 16), EDM.preconditioning()));
    nets.put("student", new NetworkDenoiser(TrainerTest.newNet(m, 8), EDM.preconditioning()));
    Map<String, Function<NDManager, Block>> twins = Map.of("model", mm -> TrainerTest.newNet(mm, 16));
    new Trainer(nets, Map.of("teacher", new NetworkDenoiser(TrainerTest.newNet(m, 16), EDM.preconditioning())), twins,
        PHASED, TrainerTest.gaussianBatches(), TrainerTest.options(steps, 3), run, "{}", null).run(resume);
    Map<String, float[]> w = new LinkedHashMap<>();
    nets.forEach((k, v) -> w.put(k, v.network().getParameters().get(0).getValue().getArray().toFloatArray()));
    return w;
  }

  @Test
  void aNetworkLeftOutOfAStepIsNotUpdatedAndPhasedRunsResumeBitForBit() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      trainPhased(m, dir.resolve("p1"), 1, false);
      // Step 0 leaves the student out: no optimiser step, no EMA update, weights as initialised.
      Checkpoint c1 = Checkpoint.load(dir.resolve("p1"));
      assertEquals("0", c1.state().get("adam_steps/student"));
      assertEquals("0", c1.state().get("ema_updates/student"));
      assertEquals("1", c1.state().get("adam_steps/model"));
      for (String k : c1.weights().keySet()) {
        if (k.startsWith("student/")) {
          assertTrue(java.util.Arrays.equals(c1.weights().get(k).data(), c1.ema().get(k).data()), k);
        }
      }
      Map<String, float[]> whole = trainPhased(m, dir.resolve("pa"), 6, false);
      trainPhased(m, dir.resolve("pb"), 3, false);
      Map<String, float[]> resumed = trainPhased(m, dir.resolve("pb"), 6, true);
      for (String k : whole.keySet()) {
        assertTrue(java.util.Arrays.equals(whole.get(k), resumed.get(k)), k + " weights bit for bit");
      }
      Checkpoint c = Checkpoint.load(dir.resolve("pb"));
      assertEquals("3", c.state().get("adam_steps/student"));
      assertEquals("6", c.state().get("adam_steps/model"));
    }
  }

  @Test
  void aTargetWithoutATwinIsAClearError() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      TrainingLoss l = ctx -> new TrainingLoss.Value(ctx.target("model").denoise(ctx.batch().x(), 1.0).sum());
      Trainer t = new Trainer(Map.of("model", new NetworkDenoiser(TrainerTest.newNet(m, 8), EDM.preconditioning())),
          Map.of(), Map.of(), l, TrainerTest.gaussianBatches(), TrainerTest.options(2, 2), dir, "{}", null);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.run(false));
      assertTrue(e.getMessage().contains("no target twin"), e.getMessage());
    }
  }

  @Test
  void aNonFiniteLossStopsWithoutTouchingTheWeightsAndNamesTheCheckpoint() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Block net = TrainerTest.newNet(m, 8);
      TrainingLoss l = ctx -> {
        NDArray loss = new DenoisingLoss(EDM).compute(ctx).loss();
        return new TrainingLoss.Value(ctx.step() >= 3 ? loss.mul(Float.NaN) : loss);
      };
      Trainer t = new Trainer(Map.of("model", new NetworkDenoiser(net, EDM.preconditioning())), Map.of(), Map.of(), l,
          TrainerTest.gaussianBatches(), TrainerTest.options(10, 2), dir, "{}", null);
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(false));
      assertEquals(3, e.step());
      assertEquals(2, e.lastCheckpoint());
      assertTrue(e.getMessage().contains("checkpoint of step 2"), e.getMessage());
      for (var p : net.getParameters()) {
        float[] v = p.getValue().getArray().toFloatArray();
        for (float f : v) {
          assertTrue(Float.isFinite(f), "parameters stay finite");
        }
      }
      Trainer fresh = new Trainer(Map.of("model", new NetworkDenoiser(TrainerTest.newNet(m, 8), EDM.preconditioning())),
          Map.of(), Map.of(), ctx -> new TrainingLoss.Value(new DenoisingLoss(EDM).compute(ctx).loss().mul(Float.NaN)),
          TrainerTest.gaussianBatches(), TrainerTest.options(10, 2), dir.resolve("x"), "{}", null);
      e = assertThrows(TrainingDivergedException.class, () -> fresh.run(false));
      assertTrue(e.getMessage().contains("no checkpoint was written yet"), e.getMessage());
    }
  }

  @Test
  void trainingAndSamplingUseTheSameForward() {
    // The training loss at a batch equals λ(σ)·‖D(x̂; σ) − x0‖² computed from the sampling denoiser D.
    try (NDManager m = NDManager.newBaseManager()) {
      Block net = TrainerTest.newNet(m, 16);
      for (Objective o : new Objective[] {EDM, Objective.of("eps", Edm.DEFAULT, 0.5),
          Objective.of("flow", org.diffusion4j.process.RectifiedFlow.DEFAULT, 0.5)}) {
        NetworkDenoiser d = new NetworkDenoiser(net, o.preconditioning());
        NDArray x0 = m.create(new float[] {0.3f, -0.7f, 1.1f, 0.2f, -0.4f, 0.9f}, new Shape(3, 2));
        SplittableRandom r1 = new SplittableRandom(11);
        StepContext ctx = new StepContext(m, r1, 0, new DataSource.Batch(x0, null), new ParameterStore(m, false),
            Map.of(Trainer.MODEL, d), Map.of(), name -> null);
        // Inference forward (no dropout) in the loss, so both paths see the same F.
        TrainingLoss noDropout = c -> {
          double[] sigma = o.draw().draw(3, c.rng());
          NDArray eps = c.normals(x0);
          NDArray xHat = x0.add(eps.mul(m.create(sigma, new Shape(3, 1)).toType(DataType.FLOAT32, false)));
          return new TrainingLoss.Value(o.perExampleLoss(d.forward(c.parameters(), false, xHat, sigma, Conditioning.NONE),
              x0, sigma).mean());
        };
        double loss = noDropout.compute(ctx).loss().getFloat();
        SplittableRandom r2 = new SplittableRandom(11);
        double[] sigma = o.draw().draw(3, r2);
        float[] eps = new float[6];
        for (int i = 0; i < 6; i++) {
          eps[i] = (float) r2.nextGaussian();
        }
        NDArray xHat = x0.add(m.create(eps, new Shape(3, 2)).mul(m.create(sigma, new Shape(3, 1)).toType(DataType.FLOAT32, false)));
        double[] den = d.denoise(xHat, sigma, Conditioning.NONE).toType(DataType.FLOAT64, false).toDoubleArray();
        float[] x = x0.toFloatArray();
        double want = 0;
        for (int i = 0; i < 3; i++) {
          double se = 0;
          for (int j = 0; j < 2; j++) {
            se += Math.pow(den[2 * i + j] - x[2 * i + j], 2) / 2;
          }
          want += o.weighting().applyAsDouble(sigma[i]) * se / 3;
        }
        assertEquals(want, loss, 2e-4 * Math.abs(want), o.id() + ": training loss = λ‖D − x0‖² of the sampling path");
        // And DenoisingLoss draws σ and ε in that order from the step's generator.
        StepContext ctx2 = new StepContext(m, new SplittableRandom(11), 0, new DataSource.Batch(x0, null),
            new ParameterStore(m, false), Map.of(Trainer.MODEL, d), Map.of(), name -> null);
        double trained = new DenoisingLoss(o).compute(ctx2).loss().getFloat();
        assertEquals(loss, trained, 2e-4 * Math.abs(loss) + 1e-6, o.id() + ": DenoisingLoss = the same loss");
      }
    }
  }
}
