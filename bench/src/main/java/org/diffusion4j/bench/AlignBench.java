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
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.align.Alignment;
import org.diffusion4j.train.align.PreferencePairs;
import org.diffusion4j.train.align.Scorer;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MnistCnn;

/**
 * The MNIST alignment benchmark: Diffusion-DPO of a trained MNIST run (its unconditional, null-label mode)
 * on synthetic preferences — "thicker strokes" ({@code ink}, the mean pixel value) and "looks like a 7"
 * ({@code digit:7}, the shipped classifier's p(7)) — judged on pairs of the reference's own samples. For
 * each β: the scorer's win rate of tuned over reference samples from the same seeds, the mean score, and
 * the Fréchet distance of the samples' classifier features to the test set; the reward/fidelity
 * trade-off as one plot ({@code align.png}, the reference as β = ∞).
 *
 * <p>Usage: {@code bin/bench align [--model RUN] [--scorers ink,digit:7] [--betas 50000,5000,500] [--pairs 192]
 * [--steps 100] [--batch 16] [--lr 5e-5] [--eval 200] [--sample-steps 10] [--out DIR]}.
 */
public final class AlignBench {
  private AlignBench() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(Bench.option(args, "--model", ""));
    String data = Bench.option(args, "--data", "mnist:../shared/data/mnist");
    String[] scorers = Bench.option(args, "--scorers", "ink,digit:7").split(",");
    String[] betas = Bench.option(args, "--betas", "50000,5000,500").split(",");
    int pairs = Integer.parseInt(Bench.option(args, "--pairs", "192"));
    long steps = Long.parseLong(Bench.option(args, "--steps", "100"));
    int batch = Integer.parseInt(Bench.option(args, "--batch", "16"));
    double lr = Double.parseDouble(Bench.option(args, "--lr", "5e-5"));
    int eval = Integer.parseInt(Bench.option(args, "--eval", "200"));
    int sampleSteps = Integer.parseInt(Bench.option(args, "--sample-steps", "10"));
    Path out = Path.of(Bench.option(args, "--out", "bench-align"));
    Files.createDirectories(out);
    if (model.toString().isEmpty()) {
      model = Bench.trainMnist(out.resolve("model"), data, Integer.parseInt(Bench.option(args, "--train-steps", "1500")));
    }
    PrintStream o = System.out;
    long[] shape = TrainedModel.readConfig(model).sampleShape();
    double[] own = samples(model, shape, 1_000_000, 2 * pairs, sampleSteps);
    double[] refEval = samples(model, shape, 2_000_000, eval, sampleSteps);
    FeatureStatistics test;
    try (MnistClassifier clf = MnistClassifier.shipped()) {
      DataSource.HostBatch t = DataSources.parse(data + ":test").first(10_000, 0);
      test = new FeatureStatistics(MnistCnn.FEATURES).add(clf.apply(t.x()).features());
    }
    o.printf(Locale.ROOT, "alignment benchmark: Diffusion-DPO of %s on %d judged pairs of its own samples, %d steps × %d "
        + "pairs, lr %s; %d evaluation samples (dpmpp-2m, %d steps)%n", model, pairs, steps, batch, lr, eval, sampleSteps);
    o.printf(Locale.ROOT, "%-9s %8s %9s %11s %8s %8s%n", "scorer", "β", "win rate", "mean score", "FD", "time s");
    List<BufferedImage> plots = new ArrayList<>();
    StringBuilder json = new StringBuilder();
    List<double[]> pictures = new ArrayList<>();
    for (String sc : scorers) {
      Scorer scorer = Scorer.parse(sc);
      PreferencePairs p = PreferencePairs.judge(own, shape, scorer);
      double[] ref = scorer.score(refEval, 784);
      double[] fd = new double[betas.length + 1];
      double[] mean = new double[betas.length + 1];
      String[] labels = new String[betas.length + 1];
      fd[0] = fd(refEval, test);
      mean[0] = average(ref);
      labels[0] = "reference";
      o.printf(Locale.ROOT, "%-9s %8s %9s %11.4f %8.2f %8s%n", sc, "∞", "—", mean[0], fd[0], "—");
      json.append(String.format(Locale.ROOT, "{\"scorer\": \"%s\", \"beta\": null, \"mean_score\": %.5f, \"fd\": %.3f}%n",
          sc, mean[0], fd[0]));
      pictures.add(java.util.Arrays.copyOf(refEval, 10 * 784));
      for (int b = 0; b < betas.length; b++) {
        long start = System.nanoTime();
        double beta = Double.parseDouble(betas[b].trim());
        Path tuned = out.resolve(sc.replace(':', '-') + "-beta" + betas[b].trim());
        if (!Files.isRegularFile(tuned.resolve("ema.safetensors"))) {
          TrainSettings settings = new TrainSettings(steps, batch, 1, lr, 0, "constant", 1.0, 0.99, 0, 0,
              (int) Math.max(1, steps / 10), (int) steps);
          Alignment.dpo(model, p, beta, false, settings, tuned, null).close();
        }
        double[] x = samples(tuned, shape, 2_000_000, eval, sampleSteps);
        double[] s = scorer.score(x, 784);
        int wins = 0;
        for (int i = 0; i < eval; i++) {
          wins += s[i] > ref[i] ? 1 : 0;
        }
        fd[b + 1] = fd(x, test);
        mean[b + 1] = average(s);
        labels[b + 1] = "β=" + betas[b].trim();
        double secs = (System.nanoTime() - start) / 1e9;
        o.printf(Locale.ROOT, "%-9s %8s %8.1f%% %11.4f %8.2f %8.0f%n", sc, betas[b].trim(), 100.0 * wins / eval,
            mean[b + 1], fd[b + 1], secs);
        json.append(String.format(Locale.ROOT, "{\"scorer\": \"%s\", \"beta\": %s, \"win_rate\": %.4f, \"mean_score\": "
            + "%.5f, \"fd\": %.3f}%n", sc, betas[b].trim(), wins / (double) eval, mean[b + 1], fd[b + 1]));
        pictures.add(java.util.Arrays.copyOf(x, 10 * 784));
      }
      plots.add(TradeOffPlot.plot("Diffusion-DPO, preference " + sc + ": reward vs fidelity", "FD to the test set",
          "mean score (" + sc + ")", List.of(new TradeOffPlot.Series(sc, fd, mean, labels, new Color(170, 40, 40)))));
    }
    ImageIO.write(DensityPlot.row(plots), "png", out.resolve("align.png").toFile());
    double[] all = new double[pictures.size() * 10 * 784];
    for (int i = 0; i < pictures.size(); i++) {
      System.arraycopy(pictures.get(i), 0, all, i * 10 * 784, 10 * 784);
    }
    ImageIO.write(ImageGrid.grid(all, pictures.size() * 10, 1, 28, 28, 2, 10), "png",
        out.resolve("align-samples.png").toFile());
    Files.writeString(out.resolve("align.jsonl"), json.toString());
    o.printf("wrote %s, %s (rows: per scorer the reference, then each β; same seeds)%n", out.resolve("align.png"),
        out.resolve("align-samples.png"));
  }

  private static double average(double[] v) {
    return java.util.Arrays.stream(v).average().orElse(Double.NaN);
  }

  private static double fd(double[] x, FeatureStatistics test) {
    try (MnistClassifier clf = MnistClassifier.shipped()) {
      return FrechetDistance.of(new FeatureStatistics(MnistCnn.FEATURES).add(clf.apply(x).features()), test);
    }
  }

  /** n unconditional (null-label) samples of a run in stored scale, dpmpp-2m on a Karras grid. */
  private static double[] samples(Path run, long[] shape, long first, int n, int steps) throws Exception {
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      Grid grid = GridSpec.karras().build(tm.config().process(), steps);
      Denoiser d = tm.denoiser();
      return Sampling.of(d, shape).sampler(SamplerRegistry.create("dpmpp-2m", Map.of())).grid(grid)
          .seeds(Sampling.seedRange(first, first + n - 1)).batch(50).dtype(DataType.FLOAT32).run().samples();
    }
  }
}
