package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.nn.diffusers.DiffusersModel;

/**
 * Sampling throughput of a diffusers UNet2DModel directory (default: the tiny fixture): DPM-Solver++(2M), 20
 * steps of the Karras grid, float32, after one warm-up run; the median of K runs is reported as images/s and
 * ms per network evaluation of the batch.
 *
 * <p>Usage: {@code bin/bench diffusers [DIR] [--threads N] [--batch B] [--steps S] [--runs K]} (defaults: the
 * fixture beside the checkout, the machine's cores, 64, 20, 5).
 */
public final class DiffusersBench {
  private DiffusersBench() {}

  public static void main(String[] args) throws IOException {
    Path dir = null;
    int threads = Runtime.getRuntime().availableProcessors();
    int batch = 64;
    int steps = 20;
    int runs = 5;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        dir = Path.of(a);
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: bin/bench diffusers [DIR] [--threads N] [--batch B] [--steps S] "
            + "[--runs K]");
      }
      int v = Integer.parseInt(args[++i]);
      switch (a) {
        case "--threads" -> threads = v;
        case "--batch" -> batch = v;
        case "--steps" -> steps = v;
        case "--runs" -> runs = v;
        default -> throw new IllegalArgumentException("unknown option " + a
            + "; accepted: --threads, --batch, --steps, --runs");
      }
    }
    if (dir == null) {
      for (Path p = Path.of("").toAbsolutePath(); p != null && dir == null; p = p.getParent()) {
        Path c = p.resolve("shared/fixtures/diffusers-unet2d-tiny");
        dir = Files.isDirectory(c) ? c : null;
      }
      if (dir == null) {
        throw new IllegalArgumentException("no model directory given and the fixture was not found");
      }
    }
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Engine.getInstance();
    try (DiffusersModel m = DiffusersModel.load(dir)) {
      System.out.printf(Locale.ROOT, "%s%nDJL %s: %d intra-op thread(s); dpmpp-2m, karras, %d steps, batch %d, "
          + "float32%n", String.join("\n", m.describe()), Engine.getDjlVersion(), JniUtils.getNumThreads(), steps,
          batch);
      Grid g = GridSpec.karras().build(m.process(), steps);
      double[] seconds = new double[runs];
      int nfe = 0;
      for (int r = -1; r < runs; r++) {
        Sampling.Result res = Sampling.of(m.denoiser(), m.sampleShape()).sampler(SamplerRegistry.create("dpmpp-2m",
            Map.of())).grid(g).seeds(0, batch - 1).batch(batch).dtype(DataType.FLOAT32).run();
        nfe = res.nfeMax();
        if (r >= 0) {
          seconds[r] = res.nanos() / 1e9;
        }
      }
      Arrays.sort(seconds);
      double med = seconds[runs / 2];
      System.out.printf(Locale.ROOT, "median of %d runs: %.3f s for %d images = %.1f images/s, %.1f ms per network "
          + "evaluation of the batch (NFE %d)%n", runs, med, batch, batch / med, 1000 * med / nfe, nfe);
    }
  }
}
