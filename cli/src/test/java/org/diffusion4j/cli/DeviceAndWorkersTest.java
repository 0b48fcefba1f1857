package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.device.Devices;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --workers} changes nothing in the output; {@code --device} and {@code --precision} fail clearly. */
class DeviceAndWorkersTest {
  @TempDir static Path dir;
  static Path run;

  @BeforeAll
  static void train() {
    run = dir.resolve("moons");
    Cli.Run r = Cli.run("train", "--data", "two-moons", "--out", run.toString(), "--quiet", "--hidden", "16", "--blocks",
        "1", "--batch", "64", "--steps", "10", "--device", "cpu");
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void workersGiveTheSingleWorkerSamplesAndMetrics() throws Exception {
    Path one = dir.resolve("one.npy");
    Path three = dir.resolve("three.npy");
    for (String sampler : new String[] {"dpmpp-2m", "euler-ancestral"}) {
      Cli.Run r = Cli.sample(run, one, "--sampler", sampler, "--steps", "5", "--seeds", "0-40", "--batch", "6");
      assertEquals(0, r.code(), r.err());
      r = Cli.sample(run, three, "--sampler", sampler, "--steps", "5", "--seeds", "0-40", "--batch", "6", "--workers", "3",
          "--device", "cpu");
      assertEquals(0, r.code(), r.err());
      assertArrayEquals(Npy.read(one).data(), Npy.read(three).data(), sampler);
    }
    // An exact model too.
    Path gm = Path.of("../examples/gmm2d.json");
    Cli.Run a = Cli.run("sample", "--model", gm.toString(), "--sampler", "heun", "--steps", "6", "--seeds", "0-30", "--batch",
        "4", "--no-check", "--out", one.toString());
    assertEquals(0, a.code(), a.err());
    a = Cli.run("sample", "--model", gm.toString(), "--sampler", "heun", "--steps", "6", "--seeds", "0-30", "--batch", "4",
        "--no-check", "--workers", "2", "--out", three.toString());
    assertEquals(0, a.code(), a.err());
    assertArrayEquals(Npy.read(one).data(), Npy.read(three).data());
    Path e1 = dir.resolve("e1.json");
    Path e2 = dir.resolve("e2.json");
    Cli.Run r = Cli.run("eval", "--model", run.toString(), "--n", "60", "--batch", "7", "--steps", "4", "--metrics",
        "swd,fd", "--out", e1.toString(), "--json");
    assertEquals(0, r.code(), r.err());
    r = Cli.run("eval", "--model", run.toString(), "--n", "60", "--batch", "7", "--steps", "4", "--metrics", "swd,fd",
        "--out", e2.toString(), "--json", "--workers", "2");
    assertEquals(0, r.code(), r.err());
    assertEquals(Files.readString(e1).replaceAll("\"sample_seconds\": [^,]*,", ""),
        Files.readString(e2).replaceAll("\"sample_seconds\": [^,]*,", ""));
  }

  @Test
  void aMissingGpuAndReducedPrecisionAreOneLineErrors() {
    Assumptions.assumeTrue(Devices.gpuCount() == 0, "this machine has a GPU");
    Path out = dir.resolve("x.npy");
    for (String[] cmd : new String[][] {
        {"sample", "--model", run.toString(), "--sampler", "heun", "--out", out.toString()},
        {"eval", "--model", run.toString()},
        {"train", "--data", "two-moons", "--out", dir.resolve("t").toString()},
        {"nll", "--model", run.toString()}}) {
      String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 2);
      args[cmd.length] = "--device";
      args[cmd.length + 1] = "gpu";
      Cli.Run r = Cli.run(args);
      assertEquals(2, r.code(), r.out() + r.err());
      assertTrue(r.err().startsWith("d4j: error: device gpu: no GPU visible to PyTorch (DJL engine reports 0 GPUs)"),
          r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
    }
    Cli.Run r = Cli.sample(run, out, "--sampler", "heun", "--device", "gpu:1");
    assertTrue(r.err().contains("device gpu:1: no GPU visible"), r.err());
    r = Cli.sample(run, out, "--sampler", "heun", "--device", "tpu");
    assertTrue(r.err().contains("unknown device 'tpu'; accepted: cpu, gpu, gpu:N"), r.err());
    r = Cli.sample(run, out, "--sampler", "heun", "--precision", "bf16");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--precision bf16 is not available"), r.err());
    r = Cli.sample(run, out, "--sampler", "heun", "--precision", "fp8");
    assertTrue(r.err().contains("unknown --precision 'fp8'; accepted: fp32, bf16, fp16"), r.err());
    // bin/gpu-check's entry point: one clear message and exit 3, before any work.
    java.io.StringWriter o = new java.io.StringWriter();
    java.io.StringWriter e = new java.io.StringWriter();
    int code;
    try {
      code = GpuCheck.run(new java.io.PrintWriter(o, true), new java.io.PrintWriter(e, true), "--out", dir.resolve("gc")
          .toString());
    } catch (java.io.IOException ex) {
      throw new java.io.UncheckedIOException(ex);
    }
    assertEquals(GpuCheck.NO_GPU, code);
    assertEquals("", o.toString());
    assertTrue(e.toString().startsWith("gpu-check: no GPU present: DJL's PyTorch engine reports 0 GPUs (PyTorch 2.7.1, "
        + "CUDA build: no"), e.toString());
    assertTrue(!Files.exists(dir.resolve("gc/gpu")), "nothing trained");
    r = Cli.sample(run, out, "--sampler", "heun", "--workers", "0");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--workers must be >= 1, got 0"), r.err());
  }
}
