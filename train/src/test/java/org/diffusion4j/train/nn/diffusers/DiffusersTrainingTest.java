package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.io.Npy;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.DiffusersUNetConfig;
import org.diffusion4j.train.nn.NetworkConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training diffusers' UNet2DModel here: PyTorch's initialisation, dropout in training mode, the null label, a
 * few steps of class-conditional DDPM training with decreasing loss, resume bit for bit, and the export to a
 * diffusers directory loaded back bit for bit.
 */
class DiffusersTrainingTest {
  @TempDir Path dir;

  /** Two levels of 8 and 16 channels (4 groups), attention on the second: ~46k parameters. */
  static UNet2DConfig tiny(double dropout) {
    return UNet2DConfig.parse("{\"block_out_channels\": [8, 16], \"layers_per_block\": 1, \"norm_num_groups\": 4, "
        + "\"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], "
        + "\"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"attention_head_dim\": null, "
        + "\"dropout\": " + dropout + "}", "tiny");
  }

  /** 128 images [1, 8, 8] of two classes (a horizontal or a vertical bar), values in [−1, 1], as an npz. */
  static Path bars(Path dir) throws IOException {
    int n = 128;
    double[] x = new double[n * 64];
    double[] labels = new double[n];
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < n; i++) {
      labels[i] = r.nextInt(2);
      int k = 1 + r.nextInt(6);
      for (int p = 0; p < 64; p++) {
        int row = p / 8;
        int col = p % 8;
        x[i * 64 + p] = (labels[i] == 0 ? row == k : col == k) ? 1 : -1;
      }
    }
    Path f = dir.resolve("bars.npz");
    try (OutputStream o = Files.newOutputStream(f); ZipOutputStream z = new ZipOutputStream(o)) {
      z.putNextEntry(new ZipEntry("x.npy"));
      z.write(Npy.encode(x, new long[] {n, 1, 8, 8}, true));
      z.closeEntry();
      z.putNextEntry(new ZipEntry("labels.npy"));
      z.write(Npy.encode(labels, new long[] {n}, false));
      z.closeEntry();
    }
    return f;
  }

  static Training training(Path data, double dropout, long steps) {
    UNet2DConfig base = tiny(dropout);
    return Training.on("npz:" + data).objective("eps").process("ddpm").classConditional(true)
        .networkFor((shape, classes) -> DiffusersUNetConfig.forData(base, shape, classes)).steps(steps).batch(16)
        .lr(2e-3).warmup(2).seed(5).logEvery(1).checkpointEvery(4);
  }

  private static List<Double> losses(Path run) throws IOException {
    return Files.readAllLines(run.resolve("metrics.jsonl")).stream()
        .map(l -> Double.parseDouble(l.replaceAll(".*\"loss\":([^,]*),.*", "$1"))).collect(Collectors.toList());
  }

  @Test
  void initialisationIsPyTorchs() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(1);
      UNet2DModel u = UNet2DModel.create(tiny(0).forData(1, 8, 2), m);
      Map<String, Parameter> p = u.namedParameters();
      // conv_in: fan_in = 1·3·3 → U(±1/3); down_blocks.0.resnets.0.conv1: fan_in = 8·9 = 72 → U(±1/√72).
      checkUniform(p.get("conv_in.weight").getArray(), 1 / 3.0);
      checkUniform(p.get("conv_in.bias").getArray(), 1 / 3.0);
      checkUniform(p.get("down_blocks.0.resnets.0.conv1.weight").getArray(), 1 / Math.sqrt(72));
      // time_embedding.linear_1: nn.Linear(8, 32) → U(±1/√8).
      checkUniform(p.get("time_embedding.linear_1.weight").getArray(), 1 / Math.sqrt(8));
      // nn.Embedding: N(0, 1); GroupNorm: γ = 1, β = 0.
      float[] e = p.get("class_embedding.weight").getArray().toFloatArray();
      assertEquals(3 * 32, e.length, "2 classes + the null row");
      double sq = 0;
      for (float v : e) {
        sq += v * v;
      }
      assertTrue(Math.abs(Math.sqrt(sq / e.length) - 1) < 0.2, "embedding std " + Math.sqrt(sq / e.length));
      for (float v : p.get("conv_norm_out.weight").getArray().toFloatArray()) {
        assertEquals(1f, v);
      }
      for (float v : p.get("conv_norm_out.bias").getArray().toFloatArray()) {
        assertEquals(0f, v);
      }
    }
  }

  /** Every value within ±b, and the spread of U(−b, b) (std b/√3, max near b). */
  private static void checkUniform(NDArray a, double b) {
    float[] v = a.toFloatArray();
    double sq = 0;
    double max = 0;
    for (float x : v) {
      assertTrue(Math.abs(x) <= b * (1 + 1e-6), x + " outside ±" + b);
      sq += x * x;
      max = Math.max(max, Math.abs(x));
    }
    double std = Math.sqrt(sq / v.length);
    assertTrue(max > 0.8 * b || v.length < 16, "max " + max + " of U(±" + b + ")");
    if (v.length >= 64) {
      assertEquals(b / Math.sqrt(3), std, 0.2 * b / Math.sqrt(3), "std of U(±" + b + ")");
    }
  }

  @Test
  void dropoutActsInTrainingOnlyAndTheNullLabelIsTheLastRow() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(2);
      UNet2DModel u = UNet2DModel.create(tiny(0.5).forData(1, 8, 2), m);
      NDArray x = m.randomNormal(new Shape(2, 1, 8, 8));
      double[] t = {10, 500};
      ParameterStore ps = new ParameterStore(m, false);
      float[] a = u.apply(ps, x, t, new long[] {0, 1}, false).toFloatArray();
      assertArrayEquals(a, u.apply(ps, x, t, new long[] {0, 1}, false).toFloatArray(), "inference is deterministic");
      float[] d1 = u.apply(ps, x, t, new long[] {0, 1}, true).toFloatArray();
      float[] d2 = u.apply(ps, x, t, new long[] {0, 1}, true).toFloatArray();
      assertFalse(java.util.Arrays.equals(d1, d2), "dropout draws a new mask in training mode");
      assertFalse(java.util.Arrays.equals(a, d1));
      // −1 is row K = 2 (the null label), as are absent labels; 3 is refused.
      float[] nul = u.apply(ps, x, t, new long[] {2, 2}, false).toFloatArray();
      assertArrayEquals(nul, u.apply(ps, x, t, new long[] {-1, -1}, false).toFloatArray());
      assertArrayEquals(nul, u.apply(ps, x, t, null, false).toFloatArray());
      assertFalse(java.util.Arrays.equals(nul, a));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> u.apply(ps, x, t, new long[] {3, 0}, false));
      assertTrue(e.getMessage().contains("class label 3") && e.getMessage().contains("null label"), e.getMessage());
      // A hub model's table has no null row: −1 is refused there.
      UNet2DModel hub = UNet2DModel.create(UNet2DConfig.parse("{\"block_out_channels\": [8, 16], \"norm_num_groups\": 4, "
          + "\"down_block_types\": [\"DownBlock2D\", \"DownBlock2D\"], \"up_block_types\": [\"UpBlock2D\", \"UpBlock2D\"], "
          + "\"layers_per_block\": 1, \"num_class_embeds\": 3, \"in_channels\": 1, \"out_channels\": 1}", "hub"), m);
      e = assertThrows(IllegalArgumentException.class, () -> hub.apply(ps, x, t, new long[] {-1, 0}, false));
      assertTrue(e.getMessage().contains("no null label"), e.getMessage());
    }
  }

  @Test
  void trainsWithDecreasingLossResumesBitForBitAndExportsToDiffusers() throws Exception {
    Path data = bars(dir);
    Path a = dir.resolve("a");
    training(data, 0.1, 20).train(a).close();
    List<Double> l = losses(a);
    double first = l.subList(0, 6).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double last = l.subList(14, 20).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    assertTrue(last < 0.7 * first, "loss " + first + " → " + last);
    NetworkConfig stored = TrainedModel.readConfig(a).network();
    assertEquals(DiffusersUNetConfig.forData(tiny(0.1), new long[] {1, 8, 8}, 2), stored, "config.json round trip");

    // Stopped (step 3 of 6) and resumed: the same weights, bit for bit, as in one go.
    Path one = dir.resolve("one");
    training(data, 0.1, 6).train(one).close();
    Path two = dir.resolve("two");
    org.diffusion4j.train.loop.Trainer[] t = {null};
    Training stopping = training(data, 0.1, 6).listener(new org.diffusion4j.train.loop.Trainer.Listener() {
      @Override
      public void onLog(org.diffusion4j.train.loop.Trainer.StepLog s) {
        if (s.step() == 3) {
          t[0].requestStop();
        }
      }
    });
    stopping.run(stopping.plan(), two, tr -> t[0] = tr).close();
    assertEquals(3, t[0].lastCheckpoint());
    Training.resume(two).train().close();
    assertEquals(losses(one), losses(two));
    for (String f : List.of(Checkpoint.WEIGHTS, Checkpoint.EMA)) {
      assertArrayEquals(Files.readAllBytes(one.resolve(f)), Files.readAllBytes(two.resolve(f)), f);
    }

    // Export → our loader: the same denoiser, bit for bit, at every σ of a grid, with labels and ∅.
    Path out = dir.resolve("exported");
    DiffusersExport.write(a, true, out);
    try (TrainedModel run = TrainedModel.load(a, true); DiffusersModel dm = DiffusersModel.load(out);
        NDManager m = NDManager.newBaseManager()) {
      assertEquals("linear", dm.scheduler().betaSchedule(), "a named schedule, not trained_betas");
      assertArrayEquals(((org.diffusion4j.process.DiscreteDdpm) run.config().process()).betas(), dm.process().betas());
      NDArray x = m.randomNormal(new Shape(3, 1, 8, 8)).mul(3);
      Conditioning c = Conditioning.NONE.withLabels(new long[] {0, 1, Conditioning.NULL_LABEL});
      for (double sigma : new double[] {0.01, 0.37, 2.5, 80, 157}) {
        double[] s = {sigma, sigma, sigma};
        assertArrayEquals(run.denoiser().denoise(x, s, c).toFloatArray(), dm.denoiser().denoise(x, s, c).toFloatArray(),
            "σ = " + sigma);
      }
    }
  }

  @Test
  void exportRefusesWhatDiffusersCannotExpressByName() throws Exception {
    Path data = bars(dir);
    UNet2DConfig base = tiny(0);
    assertTrue(DiffusersExport.refusal(Training.on("two-moons").plan().config()).contains("network is mlp"));
    Training dm = Training.on("npz:" + data).networkFor((shape, classes) -> DiffusersUNetConfig.forData(base, shape,
        classes));
    assertTrue(DiffusersExport.refusal(dm.plan().config()).contains("process is edm (continuous time)"));
    assertTrue(DiffusersExport.refusal(dm.objective("eps").process("vp").plan().config()).contains("process is vp"));
    assertTrue(DiffusersExport.refusal(dm.objective("v").process("ddpm").plan().config()).contains("objective v"));
    assertEquals(null, DiffusersExport.refusal(dm.objective("eps").process("ddpm").plan().config()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DiffusersUNetConfig.forData(base, new long[] {1, 9, 9}, 0));
    assertTrue(e.getMessage().contains("multiple of 2"), e.getMessage());
  }

  @Test
  void anyBetaScheduleIsWrittenSoThatItRebuildsExactly() {
    for (org.diffusion4j.process.DiscreteDdpm p : List.of(org.diffusion4j.process.DiscreteDdpm.DEFAULT,
        org.diffusion4j.process.DiscreteDdpm.of(1000, "scaled_linear", 0.00085, 0.012),
        org.diffusion4j.process.DiscreteDdpm.of(500, "squaredcos_cap_v2", 1e-4, 0.02),
        new org.diffusion4j.process.DiscreteDdpm(new double[] {0.01, 0.2, 0.3}, "custom"))) {
      SchedulerConfig c = SchedulerConfig.forProcess(p, SchedulerConfig.Prediction.EPSILON);
      SchedulerConfig back = SchedulerConfig.parse(c.toDiffusersJson().toString(), "written");
      assertArrayEquals(p.betas(), back.process().betas(), p.toString());
      assertEquals(p.schedule().equals("custom") ? "trained" : p.schedule(), back.betaSchedule());
    }
  }
}
