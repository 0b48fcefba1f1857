package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A toy-to-toy flow cannot be sampled from the Gaussian prior: d4j sample integrates it in t from each
 * seed's own source draw, and refuses the frame's samplers and grid options, naming what to use.
 */
class FlowTransportSampleTest {
  @TempDir Path dir;

  @Test
  void aRunFromAnotherSourceIsIntegratedInTPerSeed() throws Exception {
    Path run = dir.resolve("toy");
    Cli.Run t = Cli.run("train", "--data", "two-moons", "--objective", "cfm", "--source", "8-gaussians", "--steps", "6",
        "--hidden", "16", "--blocks", "1", "--batch", "32", "--quiet", "--out", run.toString());
    assertEquals(0, t.code(), t.err());
    Path out = dir.resolve("x.npy");
    Cli.Run r = Cli.sample(run, out, "--sampler", "dpmpp-2m", "--steps", "4", "--seeds", "0-3");
    assertEquals(2, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("8-gaussians") && r.err().contains("euler | midpoint | heun | rk4"), r.err());
    assertTrue(!Files.exists(out));
    r = Cli.sample(run, out, "--sampler", "rk4", "--steps", "4", "--seeds", "0-3", "--grid", "exponential");
    assertTrue(r.code() == 2 && r.err().contains("--grid does not apply"), r.err());

    Path traj = dir.resolve("t.npy");
    r = Cli.sample(run, out, "--sampler", "rk4", "--steps", "4", "--seeds", "0-3", "--trajectory", traj.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("NFE       16"), r.out());
    NpyArray all = Npy.read(out);
    assertArrayEquals(new long[] {4, 2}, all.shape());
    NpyArray path = Npy.read(traj);
    assertArrayEquals(new long[] {5, 4, 2}, path.shape());
    // The path (in the model's standardised coordinates) starts on the 8-gaussians source — a ring of radius
    // 4 with std 0.5, divided by the source's std √8.25 — and ends at the samples (raw data scale in the .npy).
    for (int i = 0; i < 4; i++) {
      double radius = Math.hypot(path.data()[2 * i], path.data()[2 * i + 1]);
      assertTrue(Math.abs(radius - 4 / Math.sqrt(8.25)) < 0.7, "source point " + i + " at radius " + radius);
    }
    RunConfig rc = RunConfig.fromJson(Checkpoint.readConfig(run), run.toString());
    double[] last = Arrays.copyOfRange(path.data(), 4 * 8, 5 * 8);
    for (int i = 0; i < last.length; i++) {
      assertEquals(all.data()[i], rc.scaling().invert(last[i]), 1e-5);
    }
    // Each sample depends only on its seed (up to float32 rounding of a differently sized batch).
    Path part = dir.resolve("y.npy");
    assertEquals(0, Cli.sample(run, part, "--sampler", "rk4", "--steps", "4", "--seeds", "2-3").code());
    assertArrayEquals(Arrays.copyOfRange(all.data(), 4, 8), Npy.read(part).data(), 1e-6);
    for (double v : all.data()) {
      assertTrue(Double.isFinite(v));
    }

    // A one-step distillation of the flow is sampled with one Euler step, and only so.
    Path distilled = dir.resolve("distilled");
    Cli.Run d = Cli.run("reflow", "--model", run.toString(), "--rounds", "0", "--distill-steps", "5", "--pairs", "64",
        "--batch", "32", "--ode-steps", "4", "--out", distilled.toString());
    assertEquals(0, d.code(), d.out() + d.err());
    Path oneStep = distilled.resolve("one-step");
    Path o1 = dir.resolve("one.npy");
    r = Cli.sample(oneStep, o1, "--seeds", "0-3");
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("euler in t, 1 steps") && r.out().contains("NFE       1"), r.out());
    assertArrayEquals(new long[] {4, 2}, Npy.read(o1).shape());
    r = Cli.sample(oneStep, o1, "--sampler", "rk4", "--steps", "4", "--seeds", "0-3");
    assertTrue(r.code() == 2 && r.err().contains("one-step distillation"), r.err());
    r = Cli.run("reflow", "--model", oneStep.toString(), "--rounds", "1", "--out", dir.resolve("again").toString());
    assertTrue(r.code() == 2 && r.err().contains("no ODE"), r.err());
  }
}
