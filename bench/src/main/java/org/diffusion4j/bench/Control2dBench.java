package org.diffusion4j.bench;

import ai.djl.ndarray.types.DataType;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.ClassifierFreeGuidance;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.align.Alignment;
import org.diffusion4j.train.align.PreferencePairs;
import org.diffusion4j.train.align.Scorer;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;

/**
 * Two pictures on exact 2-D mixtures.
 *
 * <ol>
 *   <li>{@code guidance-2d.png}: what classifier-free guidance does to the distribution. A labelled mixture
 *       (class 0: two left components, class 1: two right ones, the classes close); the exact conditional
 *       and unconditional denoisers combined with w = 0, 1, 2, 4, 8 and sampled with Heun, over the heat map
 *       of the exact p(x | y = 1). w = 1 is exact conditional sampling; w ≠ 1 is not the tempered
 *       p(x|y)^w p(x)^{1−w}: the samples leave the class's region nearest the other class and concentrate
 *       where p(y | x) is near 1. Printed: the fraction of samples whose exact posterior p(y = 1 | x) &gt;
 *       0.99, and their mean log p(x | y = 1).</li>
 *   <li>{@code align-2d.png}: how preference fine-tuning moves the distribution. An MLP trained on a
 *       two-component mixture, then Diffusion-DPO at several β and reward-weighted fine-tuning on pairs of
 *       its own samples judged by {@code near:−1.5,0} (prefer the left component); printed and pictured:
 *       the mass on the left component by the exact component posterior.</li>
 * </ol>
 *
 * <p>Usage: {@code bin/bench control2d [--out DIR] [--n 1000] [--steps 400] [--tune-steps 200]} (a few minutes on
 * 2 cores).
 */
public final class Control2dBench {
  private Control2dBench() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(Bench.option(args, "--out", "bench-control2d"));
    int n = Integer.parseInt(Bench.option(args, "--n", "1000"));
    long trainSteps = Long.parseLong(Bench.option(args, "--steps", "400"));
    long tuneSteps = Long.parseLong(Bench.option(args, "--tune-steps", "200"));
    Files.createDirectories(out);
    guidance(System.out, out, n);
    alignment(System.out, out, n, trainSteps, tuneSteps);
  }

  private static void guidance(PrintStream o, Path out, int n) throws Exception {
    GaussianMixture g = new GaussianMixture(new double[] {1, 1, 1, 1},
        new double[][] {{-1.6, 1}, {-0.4, -1}, {0.4, 1}, {1.6, -1}}, new double[] {0.35, 0.35, 0.35, 0.35});
    LabelledMixture lm = new LabelledMixture(g, new int[] {0, 0, 1, 1});
    GaussianMixture target = lm.ofClass(1);
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 40);
    double[] view = {-3, 3, -3, 3};
    DensityPlot plot = new DensityPlot(target, 0, view);
    List<BufferedImage> panels = new ArrayList<>();
    o.printf(Locale.ROOT, "classifier-free guidance on an exact labelled mixture (class 1), heun 40 steps, %d samples%n", n);
    o.printf(Locale.ROOT, "%6s %22s %22s%n", "w", "p(y=1|x) > 0.99", "mean log p(x | y=1)");
    double exactLogp = average(target.logDensity(target.sample(Sampling.seedRange(0, n - 1), 0), 0));
    for (double w : new double[] {0, 1, 2, 4, 8}) {
      Denoiser d = new ClassifierFreeGuidance(lm.denoiser(), w, 0, Double.POSITIVE_INFINITY, 0);
      double[] x = Sampling.of(d, 2).sampler(SamplerRegistry.create("heun", Map.of())).grid(grid)
          .seeds(Sampling.seedRange(0, n - 1)).conditioning(Conditioning.label(1, n)).run().samples();
      int sure = 0;
      double[] logp1;
      try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
        double[] tiny = new double[n];
        java.util.Arrays.fill(tiny, 1e-4);
        logp1 = lm.classifier().logProb(m.create(x, new ai.djl.ndarray.types.Shape(n, 2)), tiny, constant(1, n));
      }
      for (double v : logp1) {
        sure += Math.exp(v) > 0.99 ? 1 : 0;
      }
      double lp = average(target.logDensity(x, 0));
      o.printf(Locale.ROOT, "%6s %21.1f%% %22.3f%n", fmt(w), 100.0 * sure / n, lp);
      panels.add(plot.panel(String.format(Locale.ROOT, "w = %s: %.0f%% sure, log p %.2f", fmt(w), 100.0 * sure / n, lp),
          x, Color.WHITE, null, null));
    }
    o.printf(Locale.ROOT, "%6s %22s %22.3f  (exact samples of p(x | y=1))%n", "exact", "", exactLogp);
    ImageIO.write(DensityPlot.row(panels), "png", out.resolve("guidance-2d.png").toFile());
    o.printf("wrote %s%n%n", out.resolve("guidance-2d.png"));
  }

  private static void alignment(PrintStream o, Path out, int n, long trainSteps, long tuneSteps) throws Exception {
    GaussianMixture gm = new GaussianMixture(new double[] {0.5, 0.5}, new double[][] {{-1.5, 0}, {1.5, 0}},
        new double[] {0.3, 0.3});
    Path gmm = out.resolve("gmm-two.json");
    Files.writeString(gmm, gm.toJson());
    Path ref = out.resolve("reference");
    if (!Files.isRegularFile(ref.resolve("ema.safetensors"))) {
      Training.on("gmm:" + gmm).network(new MlpConfig(2, 64, 2, 16, 0)).steps(trainSteps).batch(256).lr(3e-3).seed(3)
          .logEvery((int) trainSteps).checkpointEvery((int) trainSteps).train(ref).close();
    }
    Scorer near = Scorer.parse("near:-1.5,0");
    Scorer left = Scorer.component(gm, 0);
    double[] own = samples(ref, 1_000_000, 2000);
    PreferencePairs pairs = PreferencePairs.judge(own, new long[] {2}, near);
    double[] view = {-3, 3, -2.5, 2.5};
    DensityPlot plot = new DensityPlot(gm, 0, view);
    List<BufferedImage> panels = new ArrayList<>();
    o.printf(Locale.ROOT, "preference fine-tuning on a two-component mixture (prefer near (−1.5, 0)), %d samples%n", n);
    o.printf(Locale.ROOT, "%-24s %14s%n", "model", "mass on left");
    record Variant(String name, Path dir) {}
    List<Variant> variants = new ArrayList<>(List.of(new Variant("reference", ref)));
    TrainSettings s = new TrainSettings(tuneSteps, 128, 1, 1e-3, 0, "constant", 1.0, 0.99, 0, 0, (int) tuneSteps,
        (int) tuneSteps);
    for (double beta : new double[] {40, 10, 2}) {
      Path dir = out.resolve("dpo-beta" + fmt(beta));
      if (!Files.isRegularFile(dir.resolve("ema.safetensors"))) {
        Alignment.dpo(ref, pairs, beta, false, s, dir, null).close();
      }
      variants.add(new Variant("Diffusion-DPO β = " + fmt(beta), dir));
    }
    Path rw = out.resolve("rw-beta0.25");
    if (!Files.isRegularFile(rw.resolve("ema.safetensors"))) {
      Alignment.rewardWeighted(ref, own, near, 0.25, 1.0, s, rw, null).close();
    }
    variants.add(new Variant("reward-weighted β = 0.25", rw));
    for (Variant v : variants) {
      double[] x = samples(v.dir(), 2_000_000, n);
      double[] p = left.score(x, 2);
      double mass = java.util.Arrays.stream(p).filter(q -> q > 0.5).count() / (double) n;
      o.printf(Locale.ROOT, "%-24s %13.1f%%%n", v.name(), 100 * mass);
      panels.add(plot.panel(String.format(Locale.ROOT, "%s: %.0f%% left", v.name(), 100 * mass), x, Color.WHITE, null,
          null));
    }
    ImageIO.write(DensityPlot.row(panels), "png", out.resolve("align-2d.png").toFile());
    o.printf("wrote %s%n", out.resolve("align-2d.png"));
  }

  private static double[] samples(Path run, long first, int n) throws Exception {
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      return Sampling.of(tm.denoiser(), 2).sampler(SamplerRegistry.create("heun", Map.of()))
          .grid(GridSpec.karras().build(tm.config().process(), 18)).seeds(Sampling.seedRange(first, first + n - 1))
          .dtype(DataType.FLOAT32).run().samples();
    }
  }

  private static long[] constant(long v, int n) {
    long[] a = new long[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

  private static double average(double[] v) {
    return java.util.Arrays.stream(v).average().orElse(Double.NaN);
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
