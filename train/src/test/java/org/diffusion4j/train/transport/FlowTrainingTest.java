package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.Toy;
import org.diffusion4j.train.eval.SlicedWasserstein;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flow-matching runs: toy-to-toy OT-CFM, the frame's denoiser view of the velocity net, a reflow round. */
class FlowTrainingTest {
  @TempDir Path dir;

  @Test
  void otCfmTransportsEightGaussiansToMoonsAndIsAFrameDenoiser() throws Exception {
    Path run = dir.resolve("ot");
    FlowSpec spec = FlowSpec.defaults("ot-cfm").withSource("8-gaussians");
    try (TrainedModel m = Training.on("two-moons").objective("ot-cfm").flow(spec)
        .network(new MlpConfig(2, 64, 2, 32, 0)).steps(400).batch(128).lr(3e-3).warmup(20).train(run)) {
      assertEquals("ot-cfm", m.config().objective());
      FlowSpec stored = FlowSpec.read(Checkpoint.readConfig(run), run.toString());
      assertEquals(spec, stored);
      double[] x0 = Reflow.sourceDraws(stored, new long[] {2}, 1000, 5);
      VelocityField v = VelocityField.of(m.denoiser(), new long[] {2}, Conditioning.NONE);
      double[] x1 = FlowOde.integrate(v, x0, 1000, 20, FlowOde.Method.HEUN);
      DataSource.HostBatch moons = Toy.TWO_MOONS.sample(1000, new SplittableRandom(6));
      double[] data = new double[2000];
      for (int i = 0; i < 2000; i++) {
        data[i] = moons.x()[i];
      }
      double before = SlicedWasserstein.distance(x0, data, 2, 256, 1);
      double after = SlicedWasserstein.distance(x1, data, 2, 256, 1);
      assertTrue(after < 0.5 * before && after < 0.16, "sliced W2 to the moons: source " + before + ", transported " + after);
      // The same network is the rectified-flow denoiser of the frame: D(x̂; σ) = x_τ + τ v(x_τ, 1 − τ).
      try (NDManager nm = NDManager.newBaseManager()) {
        for (double tau : new double[] {0.2, 0.5, 0.9}) {
          double sigma = RectifiedFlow.DEFAULT.sigma(tau);
          double[] xt = {0.3, -0.7, 1.1, 0.4};
          NDArray xHat = nm.create(new double[] {xt[0] / (1 - tau), xt[1] / (1 - tau), xt[2] / (1 - tau),
              xt[3] / (1 - tau)}, new ai.djl.ndarray.types.Shape(2, 2));
          double[] d = m.denoiser().denoise(xHat, new double[] {sigma, sigma}, Conditioning.NONE).toDoubleArray();
          double[] vel = v.velocity(xt, 2, 1 - tau);
          for (int i = 0; i < 4; i++) {
            assertEquals(xt[i] + tau * vel[i], d[i], 1e-4, "τ " + tau);
          }
        }
      }
    }
    // Resume continues the flow run with its stored spec.
    try (TrainedModel m = Training.resume(run).steps(420).train()) {
      assertEquals(420, m.step());
    }
  }

  @Test
  void aReflowRoundOfAnExactMixtureFlowIsStraighter() throws Exception {
    VelocityField exact = twoGaussianFlow();
    FlowSpec spec = FlowSpec.defaults("cfm");
    RunConfig c = smallFlowRun();
    Reflow.Options o = new Reflow.Options(3000, 1, 400, 256, 3e-3, 40, FlowOde.Method.RK4, 3, false);
    Path round = dir.resolve("round-1");
    Reflow.round(exact, c, spec, round, o, 1, null, null);
    assertTrue(round.resolve(FlowTraining.PAIRS).toFile().isFile());
    double[] x0 = Reflow.sourceDraws(spec, new long[] {2}, 1000, 99);
    FlowOde.Paths before = FlowOde.measure(exact, x0, 1000, 40, FlowOde.Method.RK4);
    try (TrainedModel m = TrainedModel.load(round, true)) {
      FlowOde.Paths after = FlowOde.measure(VelocityField.of(m.denoiser(), new long[] {2}, Conditioning.NONE), x0,
          1000, 40, FlowOde.Method.RK4);
      System.out.printf("reflow: straightness %.4f → %.4f, transport cost %.4f → %.4f%n", before.straightness(),
          after.straightness(), before.transportCost(), after.transportCost());
      assertTrue(after.straightness() < 0.5 * before.straightness(),
          "straightness " + before.straightness() + " → " + after.straightness());
      assertTrue(after.transportCost() < before.transportCost() * 1.1);
    }
  }

  @Test
  void aOneStepDistillationOfAnExactMixtureFlowIsItsMapInOneEulerStep() throws Exception {
    VelocityField exact = twoGaussianFlow();
    FlowSpec spec = FlowSpec.defaults("cfm");
    RunConfig c = smallFlowRun();
    Reflow.Options o = new Reflow.Options(3000, 0, 400, 256, 3e-3, 40, FlowOde.Method.RK4, 3, false, 400);
    Path run = dir.resolve("one-step");
    Reflow.distill(exact, c, spec, run, o, null, null);
    FlowSpec stored = Reflow.specOf(run);
    assertTrue(stored.oneStep() && stored.coupling().equals("pairs"), stored.toString());
    double[] x0 = Reflow.sourceDraws(spec, new long[] {2}, 1000, 99);
    double[] map = FlowOde.integrate(exact, x0, 1000, 40, FlowOde.Method.RK4);
    double teacherOneStep = meanSquared(FlowOde.integrate(exact, x0, 1000, 1, FlowOde.Method.EULER), map);
    try (TrainedModel m = TrainedModel.load(run, true)) {
      VelocityField v = VelocityField.of(m.denoiser(), new long[] {2}, Conditioning.NONE);
      double student = meanSquared(FlowOde.integrate(v, x0, 1000, 1, FlowOde.Method.EULER), map);
      System.out.printf("one-step distillation: E|x1 - map|^2 %.4f (teacher's own Euler step %.4f)%n", student,
          teacherOneStep);
      assertTrue(student < 0.2 * teacherOneStep, student + " vs " + teacherOneStep);
    }
  }

  private static double meanSquared(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (a[i] - b[i]) * (a[i] - b[i]);
    }
    return s / (a.length / 2);
  }

  /** The exact flow N(0, I) → an equal mixture of two narrow Gaussians. */
  private static VelocityField twoGaussianFlow() {
    return GaussianFlow.fromStandardNormal(new GaussianMixture(new double[] {0.5, 0.5},
        new double[][] {{2, 1.5}, {-2, -1.5}}, new double[] {0.3, 0.3}));
  }

  /** A 2×64 MLP flow run of 400 steps × 256 on 2-D points. */
  private static RunConfig smallFlowRun() {
    TrainSettings ts = new TrainSettings(400, 256, 1, 3e-3, 30, "cosine", 1.0, 0.99, 0, 3, 50, 400);
    return new RunConfig(new MlpConfig(2, 64, 2, 32, 0), RectifiedFlow.DEFAULT, "cfm", 1.0, "demo",
        new long[] {2}, DataSource.Affine.IDENTITY, 0, 0, false, ts);
  }
}
