package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code d4j sample} and {@code d4j info} on the diffusers v0.25 fixture directory. */
class DiffusersCommandTest {
  private static Path fixture;
  @TempDir Path dir;

  @BeforeAll
  static void locate() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path c = p.resolve("shared").resolve("fixtures").resolve("diffusers-unet2d-tiny");
      if (Files.isDirectory(c)) {
        fixture = c;
        return;
      }
    }
    Assumptions.abort("diffusers fixture not found");
  }

  private static double relative(double[] a, double[] b) {
    double d = 0;
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      m = Math.max(m, Math.abs(b[i]));
    }
    return d / m;
  }

  @Test
  void ddimAndKarrasDpmSolverFromTheCommandLineGiveDiffusersLoops() throws IOException {
    Path init = fixture.resolve("expected/loop_init_noise.npy");
    Path out = dir.resolve("ddim.npy");
    Cli.Run r = Cli.sample(fixture, out, "--sampler", "ddim", "--grid", "leading", "--steps", "10", "--init",
        init.toString(), "--dtype", "float32");
    assertEquals(0, r.code(), r.err());
    NpyArray a = Npy.read(out);
    assertArrayEquals(new long[] {4, 3, 8, 8}, a.shape());
    double e = relative(a.data(), Npy.read(fixture.resolve("expected/loop_ddim_eta0_leading_10.npy")).data());
    assertTrue(e < 1e-3, "ddim leading 10: " + e);
    Path k = dir.resolve("karras.npy");
    r = Cli.sample(fixture, k, "--sampler", "dpmpp-2m", "--grid", "karras", "--steps", "12", "--timestep-mapping",
        "rounded", "--init", init.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("rounded timesteps"), r.out());
    e = relative(Npy.read(k).data(), Npy.read(fixture.resolve("expected/loop_dpmpp_2m_karras_12.npy")).data());
    assertTrue(e < 1e-3, "dpmpp-2m karras 12: " + e);
  }

  @Test
  void writesAGridAndOnePngPerSeed() throws IOException {
    Path png = dir.resolve("grid.png");
    Cli.Run r = Cli.sample(fixture.resolve("unet"), png, "--sampler", "dpmpp-2m", "--steps", "4", "--seeds", "0-3");
    assertEquals(0, r.code(), r.err());
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() >= 2 * 8 * 2, "a 2×2 grid of 8×8 images at zoom 2: " + img.getWidth());
    Path seeds = dir.resolve("seeds");
    r = Cli.sample(fixture, seeds, "--sampler", "euler", "--steps", "3", "--seeds", "5,7");
    assertEquals(0, r.code(), r.err());
    assertEquals(32, ImageIO.read(seeds.resolve("seed-000007.png").toFile()).getWidth());
    assertTrue(Files.exists(seeds.resolve("seed-000005.png")));
  }

  @Test
  void infoPrintsArchitectureParametersAndScheduler() {
    Cli.Run r = Cli.run("info", fixture.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("702,499 parameters in 144 tensors"), r.out());
    assertTrue(r.out().contains("down [DownBlock2D, AttnDownBlock2D]"), r.out());
    assertTrue(r.out().contains("DDPMScheduler, 1000 training timesteps, linear betas"), r.out());
  }

  @Test
  void infoDescribesARunToo() {
    Path run = dir.resolve("run");
    Cli.Run r = Cli.run("train", "--data", "two-moons", "--out", run.toString(), "--quiet", "--hidden", "16", "--blocks", "1", "--batch", "32",
        "--steps", "4");
    assertEquals(0, r.code(), r.err());
    r = Cli.run("info", run.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("(step 4)") && r.out().contains("hidden=16") && r.out().contains("process   edm"),
        r.out());
    r = Cli.run("info", dir.resolve("nothing").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not a directory"), r.err());
  }

  @Test
  void optionsThatDoNotApplyAreErrors() throws IOException {
    Path out = dir.resolve("x.npy");
    Cli.Run r = Cli.sample(fixture, out, "--sampler", "ddim", "--process", "ddpm");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("d4j: error: --process has no effect on a diffusers model"), r.err());
    r = Cli.sample(fixture, out, "--sampler", "ddim", "--class", "1");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--class 1: the model is unconditional"), r.err());
    r = Cli.sample(fixture, out, "--sampler", "ddim", "--timestep-mapping", "nearest");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("unknown timestep mapping 'nearest'; accepted: continuous, rounded, linear"), r.err());
    Path gmm = dir.resolve("gmm.json");
    Files.writeString(gmm, SampleCommandTest.GMM);
    r = Cli.sample(gmm, out, "--sampler", "ddim", "--timestep-mapping", "rounded");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("applies to diffusers model directories only"), r.err());
    assertTrue(!Files.exists(out));
  }

  @Test
  void eulerOnFractionalLinspaceTimestepsIsDiffusersEuler() throws IOException {
    Path init = fixture.resolve("expected/loop_init_noise.npy");
    double[] want = Npy.read(fixture.resolve("expected/loop_euler_linspace_15.npy")).data();
    Path out = dir.resolve("euler.npy");
    Cli.Run r = Cli.sample(fixture, out, "--sampler", "euler", "--grid", "linspace", "--fractional", "--steps", "15",
        "--init", init.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("linear timesteps"), r.out());
    double e = relative(Npy.read(out).data(), want);
    assertTrue(e < 5e-5, "euler linspace 15, fractional: " + e);
    // Rounded linspace timesteps (DDIM's convention) are 100 times further off.
    r = Cli.sample(fixture, out, "--sampler", "euler", "--grid", "linspace", "--steps", "15", "--init", init.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(relative(Npy.read(out).data(), want) > 1e-3);
    r = Cli.sample(fixture, out, "--sampler", "euler", "--grid", "leading", "--fractional", "--steps", "15");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--fractional applies to --grid linspace"), r.err());
  }

  /** 64 images [1, 8, 8] of two classes, as an npz with labels. */
  private Path bars() throws IOException {
    int n = 64;
    double[] x = new double[n * 64];
    double[] labels = new double[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 2;
      for (int p = 0; p < 64; p++) {
        x[i * 64 + p] = (i % 2 == 0 ? p / 8 == 1 + i % 6 : p % 8 == 1 + i % 6) ? 1 : -1;
      }
    }
    Path f = dir.resolve("bars.npz");
    try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(f))) {
      z.putNextEntry(new java.util.zip.ZipEntry("x.npy"));
      z.write(Npy.encode(x, new long[] {n, 1, 8, 8}, true));
      z.putNextEntry(new java.util.zip.ZipEntry("labels.npy"));
      z.write(Npy.encode(labels, new long[] {n}, false));
    }
    return f;
  }

  @Test
  void trainsExportsAndSamplesTheDiffusersArchitecture() throws IOException {
    Path config = dir.resolve("unet.json");
    Files.writeString(config, "{\"block_out_channels\": [8, 16], \"layers_per_block\": 1, \"norm_num_groups\": 4, "
        + "\"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], "
        + "\"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"dropout\": 0.1}");
    Path run = dir.resolve("run");
    Cli.Run r = Cli.run("train", "--data", "npz:" + bars(), "--net", "diffusers-unet2d", "--diffusers-config",
        config.toString(), "--class-conditional", "--steps", "4", "--batch", "8", "--warmup", "1", "--checkpoint-every", "4", "--out",
        run.toString(), "--quiet");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("diffusers UNet2DModel [8, 16]ch") && r.out().contains("objective eps")
        && r.out().contains("process ddpm"), r.out());
    Path exported = dir.resolve("exported");
    r = Cli.run("export", "--model", run.toString(), "--format", "diffusers", "--out", exported.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.isRegularFile(exported.resolve("unet/diffusion_pytorch_model.safetensors")));
    r = Cli.run("info", exported.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("2 classes + null label (row 2)"), r.out());
    // The run and its export sample the same, bit for bit.
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    for (Path[] p : new Path[][] {{run, a}, {exported, b}}) {
      r = Cli.sample(p[0], p[1], "--sampler", "ddim", "--grid", "leading", "--steps", "5", "--class", "1", "--seeds",
          "0-2", "--dtype", "float32");
      assertEquals(0, r.code(), r.err());
    }
    assertArrayEquals(Npy.read(a).data(), Npy.read(b).data());
    r = Cli.run("export", "--model", run.toString(), "--format", "diffusers", "--out", exported.toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("is not empty"), r.err());
    r = Cli.run("export", "--model", run.toString(), "--format", "onnx", "--out", dir.resolve("o").toString());
    assertTrue(r.err().contains("unknown --format 'onnx'; accepted: diffusers"), r.err());
    r = Cli.run("train", "--data", "npz:" + dir.resolve("bars.npz"), "--net", "diffusers-unet2d", "--base-channels", "8",
        "--steps", "2", "--out", dir.resolve("c").toString(), "--quiet");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--base-channels has no effect on --net diffusers-unet2d"), r.err());
    Path moons = dir.resolve("moons");
    r = Cli.run("train", "--data", "two-moons", "--out", moons.toString(), "--quiet", "--hidden", "8", "--blocks", "1",
        "--batch", "8", "--steps", "2");
    assertEquals(0, r.code(), r.err());
    r = Cli.run("export", "--model", moons.toString(), "--format", "diffusers", "--out", dir.resolve("m").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().contains("network is mlp") && r.err().contains("--net diffusers-unet2d"), r.err());
  }

  @Test
  void nllAndEvalOpenADiffusersModel() throws IOException {
    try (EvalModel m = EvalModel.open(fixture, null, "ema")) {
      assertArrayEquals(new long[] {3, 8, 8}, m.shape);
      assertEquals("ddpm", m.process.id());
      assertTrue(m.describe(fixture).startsWith("diffusers model"), m.describe(fixture));
      // D(x̂; σ) of the measured denoiser is the model's own (unconditional fixture).
      try (ai.djl.ndarray.NDManager nd = ai.djl.ndarray.NDManager.newBaseManager();
          var dm = org.diffusion4j.train.nn.diffusers.DiffusersModel.load(fixture)) {
        var x = nd.randomNormal(new ai.djl.ndarray.types.Shape(2, 3, 8, 8));
        double[] s = {0.5, 3};
        assertArrayEquals(dm.denoiser().denoise(x, s, org.diffusion4j.denoiser.Conditioning.NONE).toFloatArray(),
            m.denoiser.denoise(x, s, org.diffusion4j.denoiser.Conditioning.NONE).toFloatArray());
      }
    }
    Cli.Run r = Cli.run("nll", "--model", fixture.toString(), "--n", "2");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("a diffusers model does not say what it was trained on: give --data"), r.err());
    r = Cli.run("eval", "--model", fixture.toString(), "--weights", "raw");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--weights applies to runs"), r.err());
  }
}
