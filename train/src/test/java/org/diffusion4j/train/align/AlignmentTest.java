package org.diffusion4j.train.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preference learning: reward model, Diffusion-DPO and reward-weighted fine-tuning, with exact oracles. */
class AlignmentTest {
  /** Two well separated components of equal weight: a preference for component 0 is a preference for the left. */
  static final GaussianMixture GM = org.diffusion4j.train.RunFixtures.TWO_BUMPS;

  @TempDir static Path dir;
  static Path reference;

  @BeforeAll
  static void trainReference() throws Exception {
    reference = org.diffusion4j.train.RunFixtures.trainTwoBumps(dir, "ref", new MlpConfig(2, 64, 2, 16, 0), 400, 256);
  }

  private static long[] seeds(long from, int n) {
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = from + i;
    }
    return s;
  }

  /** Fraction of samples whose exact posterior prefers component 0. */
  private static double leftFraction(Path run) throws Exception {
    try (TrainedModel m = TrainedModel.load(run, true)) {
      double[] x = Sampling.of(m.denoiser(), 2).sampler(SamplerRegistry.create("heun", Map.of()))
          .grid(GridSpec.karras().build(Edm.DEFAULT, 12)).seeds(seeds(10_000, 400)).dtype(DataType.FLOAT32).run()
          .samples();
      double[] p = Scorer.component(GM, 0).score(x, 2);
      return java.util.Arrays.stream(p).filter(v -> v > 0.5).count() / (double) p.length;
    }
  }

  /** Separable pairs: the preferred sample from component 0, the rejected one from component 1 (exact draws). */
  private static PreferencePairs exactPairs(int n, long seed) {
    double[] left = GaussianMixture.gaussian(new double[] {-1.5, 0}, 0.3).sample(seeds(seed, n), 0);
    double[] right = GaussianMixture.gaussian(new double[] {1.5, 0}, 0.3).sample(seeds(seed + n, n), 0);
    return new PreferencePairs(left, right, new long[] {2}, null);
  }

  private static TrainSettings settings(long steps, double lr) {
    return new TrainSettings(steps, 128, 1, lr, 0, "constant", 1.0, 0.99, 0, 5, (int) steps, (int) steps);
  }

  @Test
  void diffusionDpoMovesMassTowardThePreferredComponentAndLeavesTheReferenceAlone() throws Exception {
    byte[] before = Files.readAllBytes(reference.resolve("ema.safetensors"));
    double base = leftFraction(reference);
    Path tuned = dir.resolve("dpo");
    List<Double> losses = new java.util.ArrayList<>();
    Alignment.dpo(reference, exactPairs(2000, 1), 20, false, settings(150, 1e-3), tuned, new Trainer.Listener() {
      @Override
      public void onLog(Trainer.StepLog s) {
        losses.add(s.loss());
      }
    }).close();
    double after = leftFraction(tuned);
    System.out.printf("Diffusion-DPO: mass on the preferred component %.3f -> %.3f%n", base, after);
    assertTrue(after > base + 0.1, "mass on the preferred component: reference " + base + ", tuned " + after);
    assertArrayEquals(before, Files.readAllBytes(reference.resolve("ema.safetensors")), "the reference never changes");
    assertTrue(Files.readString(tuned.resolve("config.json")).contains("\"alignment\""));
  }

  @Test
  void atTheReferenceTheDpoLossIsLogTwoAndEqualsItsDefinition() throws Exception {
    try (NDManager m = NDManager.newBaseManager(); TrainedModel a = TrainedModel.load(reference, true);
        TrainedModel b = TrainedModel.load(reference, true)) {
      Objective o = a.config().objectiveValue();
      PreferencePairs pairs = exactPairs(16, 7);
      DataSource.Batch batch = pairs.batches().next(m, 16, new SplittableRandom(1));
      StepContext ctx = new StepContext(m, new SplittableRandom(2), 0, batch, new ParameterStore(m, false),
          Map.of(Trainer.MODEL, a.denoiser()), Map.of(DiffusionDpoLoss.REFERENCE, b.denoiser()), n -> null);
      double loss = new DiffusionDpoLoss(o, 50).compute(ctx).loss().getFloat();
      assertEquals(Math.log(2), loss, 1e-5, "θ = ref gives log 2 whatever β (float32 forward)");

      // Against the definition, with a reference that differs: D_ref = 0.9·D_θ.
      NetworkDenoiser theta = a.denoiser();
      Denoiser shrunk = (x, s, c) -> theta.denoise(x, s, c).mul(0.9);
      SplittableRandom r1 = new SplittableRandom(5);
      StepContext c2 = new StepContext(m, r1, 0, batch, new ParameterStore(m, false), Map.of(Trainer.MODEL, theta),
          Map.of(DiffusionDpoLoss.REFERENCE, shrunk), n -> null);
      double beta = 3;
      double got = new DiffusionDpoLoss(o, beta).compute(c2).loss().getFloat();
      // The definition, step by step on the host.
      SplittableRandom r2 = new SplittableRandom(5);
      double[] sig = o.draw().draw(16, r2);
      float[] eps = new float[32];
      for (int i = 0; i < 32; i++) {
        eps[i] = (float) r2.nextGaussian();
      }
      float[] x0 = batch.x().toFloatArray();
      double[] sigma = new double[32];
      float[] xh = new float[64];
      for (int i = 0; i < 32; i++) {
        sigma[i] = sig[i % 16];
        for (int j = 0; j < 2; j++) {
          xh[2 * i + j] = x0[2 * i + j] + eps[2 * (i % 16) + j] * (float) sigma[i];
        }
      }
      NDArray xHat = m.create(xh, new Shape(32, 2));
      double[] dt = theta.denoise(xHat, sigma, Conditioning.NONE).toType(DataType.FLOAT64, false).toDoubleArray();
      double total = 0;
      for (int i = 0; i < 16; i++) {
        double[] l = new double[4];
        for (int side = 0; side < 2; side++) {
          int row = i + 16 * side;
          double lam = o.weighting().applyAsDouble(sigma[row]);
          double et = 0;
          double er = 0;
          for (int j = 0; j < 2; j++) {
            et += Math.pow(dt[2 * row + j] - x0[2 * row + j], 2) / 2;
            er += Math.pow(0.9 * dt[2 * row + j] - x0[2 * row + j], 2) / 2;
          }
          l[2 * side] = lam * et;
          l[2 * side + 1] = lam * er;
        }
        double z = -beta * ((l[0] - l[1]) - (l[2] - l[3]));
        total += Math.log1p(Math.exp(-z));
      }
      assertEquals(total / 16, got, 2e-4 * Math.abs(total / 16) + 1e-5, "Diffusion-DPO = its definition");
      assertThrows(IllegalArgumentException.class, () -> new DiffusionDpoLoss(o, 0));
    }
  }

  @Test
  void aBradleyTerryRewardSeparatesSeparablePairs() throws Exception {
    PreferencePairs all = exactPairs(600, 11);
    PreferencePairs[] split = all.split(500);
    List<Double> losses = new java.util.ArrayList<>();
    Alignment.Reward r = Alignment.trainReward(split[0], split[1], new MlpConfig(2, 32, 1, 8, 0), settings(300, 3e-3),
        dir.resolve("reward"), new Trainer.Listener() {
          @Override
          public void onLog(Trainer.StepLog s) {
            losses.add(s.loss());
          }
        });
    System.out.printf("Bradley-Terry: held-out accuracy %.3f, final loss %.4f%n", r.heldOutAccuracy(),
        losses.get(losses.size() - 1));
    assertTrue(r.heldOutAccuracy() > 0.95, "held-out accuracy " + r.heldOutAccuracy());
    assertTrue(losses.get(losses.size() - 1) < 0.2, "Bradley–Terry loss falls toward 0: " + losses);
  }

  @Test
  void rewardWeightedFineTuningMovesMassAndItsKlTermIsZeroAtTheReference() throws Exception {
    double base = leftFraction(reference);
    Path tuned = dir.resolve("rw");
    double[] samples = GM.sample(seeds(50_000, 4000), 0);
    Alignment.rewardWeighted(reference, samples, Scorer.component(GM, 0), 0.25, 1.0, settings(150, 1e-3), tuned, null)
        .close();
    double after = leftFraction(tuned);
    System.out.printf("reward-weighted: mass on the preferred component %.3f -> %.3f%n", base, after);
    assertTrue(after > base + 0.1, "reference " + base + ", reward-weighted " + after);
  }

  @Test
  void pairsAreJudgedAndReadWithTheirShape() throws Exception {
    PreferencePairs p = PreferencePairs.judge(new double[] {0, 0, 5, 5, 9, 9, 1, 1}, new long[] {2},
        Scorer.near(0, 0));
    assertArrayEquals(new double[] {0, 0, 1, 1}, p.preferred());
    assertArrayEquals(new double[] {5, 5, 9, 9}, p.rejected());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scorer.parse("shiny"));
    assertTrue(e.getMessage().contains("near:"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new PreferencePairs(new double[2], new double[4],
        new long[] {2}, null));
  }
}
