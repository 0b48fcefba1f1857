package org.diffusion4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.nn.UNetConfig;

/** What the control and alignment benchmarks share: option parsing and a fresh machine's MNIST run. */
final class Bench {
  private Bench() {}

  /** The value after {@code name}, or {@code def}. */
  static String option(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }

  /**
   * The project's class-conditional MNIST U-Net (base 32, multipliers 1,2,2, one block per level, attention at
   * 7, no dropout, label dropout 0.1, EDM, batch 64, lr 1e-3), trained into {@code dir} unless it already
   * holds it — the run the benchmarks use when no --model is given.
   */
  static Path trainMnist(Path dir, String data, long steps) throws IOException {
    if (Files.isRegularFile(dir.resolve("ema.safetensors"))) {
      return dir;
    }
    System.out.printf("no --model: training a class-conditional MNIST U-Net for %d steps into %s%n", steps, dir);
    Training.on(data).objective("edm")
        .network(new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 1, new int[] {7}, 0.0, 10))
        .classConditional(true).labelDropout(0.1).steps(steps).batch(64).lr(1e-3).warmup(100).ema(0.995)
        .train(dir).close();
    return dir;
  }
}
