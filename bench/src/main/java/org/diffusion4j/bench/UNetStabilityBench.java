package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingDivergedException;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * Long-run checks of the MNIST U-Net through the real {@link Trainer} (too slow for the test suite).
 *
 * <ul>
 *   <li>{@code stability}: the README's MNIST run (base 32, multipliers 1,2,2, one block per level,
 *       attention at 7×7, no dropout, batch 64, lr 1e-3, 100 warm-up steps then cosine over 1150, clip 1,
 *       EMA 0.995, seed 0, EDM objective, σ_data 0.62). Every step's loss and pre-clipping gradient norm
 *       must be finite — the Trainer stops with a {@link TrainingDivergedException} naming the step and
 *       the first non-finite gradient tensor otherwise. Prints the loss every 10 steps and the largest
 *       gradient norm seen, and a digest of all losses (equal digests: bit-identical runs); with
 *       {@code --losses FILE} appends every step's loss and gradient norm to FILE as it goes (full
 *       precision, for comparing processes); exits 1 on a non-finite step.</li>
 *   <li>{@code repro}: K steps (default 8) of the same network and batch run twice from the same seed,
 *       and once stopped at K/2 and resumed from the checkpoint; prints each step's loss and whether the
 *       three runs agree bit for bit, at the thread count given.</li>
 * </ul>
 *
 * <p>Usage: {@code bin/bench stability [--steps N] [--threads T] [--data SPEC] [--losses FILE]} and
 * {@code bin/bench repro [--steps K] [--batch B] [--threads T]}.
 */
public final class UNetStabilityBench {
  private UNetStabilityBench() {}

  /** Where {@code stability} appends each step's loss as it goes ({@code --losses}), or null. */
  private static Path lossFile;

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 && !args[0].startsWith("--") ? args[0] : "stability";
    int steps = Integer.parseInt(option(args, "--steps", mode.equals("repro") ? "8" : "1150"));
    int batch = Integer.parseInt(option(args, "--batch", "64"));
    String threads = option(args, "--threads", "" + Runtime.getRuntime().availableProcessors());
    String data = option(args, "--data", "mnist:../shared/data/mnist");
    System.setProperty("ai.djl.pytorch.num_threads", threads);
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    DataSource source = DataSources.parse(data, DataOptions.defaults());
    Objective objective = Objective.of("edm", Processes.byId("edm"), 0.62);
    System.out.printf(Locale.ROOT, "%s: %d steps × batch %d, %s intra-op threads (OMP_NUM_THREADS=%s)%n", mode, steps,
        batch, threads, System.getenv("OMP_NUM_THREADS"));
    Path base = Files.createTempDirectory("d4j-" + mode);
    String file = option(args, "--losses", "");
    lossFile = file.isEmpty() ? null : Path.of(file);
    if (lossFile != null) {
      Files.deleteIfExists(lossFile);
    }
    if (mode.equals("repro")) {
      LrSchedule lr = LrSchedule.cosine(1e-3, 2, steps);
      int half = steps / 2;
      List<Double> a = run(source, objective, lr, steps, batch, steps, base.resolve("a"), false, false);
      List<Double> b = run(source, objective, lr, steps, batch, steps, base.resolve("b"), false, false);
      List<Double> c = run(source, objective, lr, half, batch, half, base.resolve("c"), false, false);
      c.addAll(run(source, objective, lr, steps, batch, steps, base.resolve("c"), true, false));
      for (int i = 0; i < steps; i++) {
        System.out.printf(Locale.ROOT, "step %3d  loss %.17g  second run − first %.3g  resumed − first %.3g%n", i + 1,
            a.get(i), b.get(i) - a.get(i), c.get(i) - a.get(i));
      }
      System.out.println("bit for bit: second run " + a.equals(b) + ", resumed at step " + half + " " + a.equals(c));
      return;
    }
    if (!mode.equals("stability")) {
      throw new IllegalArgumentException("unknown mode '" + mode + "'; accepted: stability, repro");
    }
    try {
      List<Double> losses = run(source, objective, LrSchedule.cosine(1e-3, 100, 1150), steps, batch, steps,
          base.resolve("run"), false, true);
      System.out.printf(Locale.ROOT, "every step finite through step %d; losses digest %08x%n", steps,
          losses.hashCode());
    } catch (TrainingDivergedException e) {
      System.out.println("NON-FINITE: " + e.getMessage());
      System.exit(1);
    }
  }

  private static List<Double> run(DataSource source, Objective objective, LrSchedule lr, int steps, int batch,
      int every, Path dir, boolean resume, boolean verbose) throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(0);
      UNetConfig d = UNetConfig.mnist();
      UNetConfig cfg = new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 1, new int[] {7}, 0, 0, d.heads(),
          d.embedding(), d.downsample());
      Block net = cfg.build();
      net.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28), new Shape(1));
      Trainer.Options opt = new Trainer.Options(steps, batch, 1, lr, 1.0, new Ema.WarmUp(0.995), 0, 1, every);
      double[] maxNorm = {0};
      Trainer.Listener listener = !verbose ? null : new Trainer.Listener() {
        @Override
        public void onLog(Trainer.StepLog s) {
          maxNorm[0] = Math.max(maxNorm[0], s.gradNorm());
          if (lossFile != null) {
            try {
              Files.writeString(lossFile, String.format(Locale.ROOT, "%d %.17g %.17g%n", s.step(), s.loss(), s.gradNorm()),
                  java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }
          if (s.step() % 10 == 0) {
            System.out.printf(Locale.ROOT, "step %4d  loss %.5f  lr %.3g  grad norm %.3f (max so far %.3f)  %.2f steps/s%n",
                s.step(), s.loss(), s.lr(), s.gradNorm(), maxNorm[0], s.stepsPerSecond());
          }
        }
      };
      return new ArrayList<>(new Trainer(net, objective, Trainer.Batches.of(source, false), opt, dir, "{}", listener)
          .run(resume));
    }
  }

  private static String option(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
