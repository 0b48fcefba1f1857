package org.diffusion4j.bench;

import ai.djl.ndarray.types.DataType;
import java.awt.Color;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.ClassifierFreeGuidance;
import org.diffusion4j.guidance.Inpainting;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PosteriorSampling;
import org.diffusion4j.guidance.PseudoinverseGuidance;
import org.diffusion4j.guidance.RePaint;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.nn.MnistCnn;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * The MNIST guidance benchmark of a class-conditional run (trained with label dropout), judged by the
 * shipped MNIST classifier:
 *
 * <ol>
 *   <li>classifier-free guidance at scales w (default 0, 1, 2, 4, 8): the fraction of samples the
 *       classifier labels as the requested class, and the Fréchet distance of the samples' classifier
 *       features to the test set's — the guidance trade-off, one plot ({@code guidance.png});</li>
 *   <li>inpainting of test digits with the lower half masked (generated from the upper half), by
 *       replacement, RePaint, DPS and ΠGDM: the PSNR of the masked region against the original and the
 *       classifier's agreement with the original digit's label.</li>
 * </ol>
 *
 * <p>Usage: {@code bin/bench guidance --model RUN [--data mnist:DIR] [--per-class N] [--scales 0,1,2,4,8]
 * [--sampler dpmpp-2m] [--steps 12] [--inpaint N] [--inpaint-steps 18] [--resample 4] [--jump 1] [--dps-scale 20] [--pigdm-scale 1]
 * [--out DIR]}. Without --model it first trains a run ({@code d4j train … --class-conditional}).
 */
public final class GuidanceBench {
  private GuidanceBench() {}

  public static void main(String[] args) throws Exception {
    Path model = Path.of(Bench.option(args, "--model", ""));
    String data = Bench.option(args, "--data", "mnist:../shared/data/mnist");
    int perClass = Integer.parseInt(Bench.option(args, "--per-class", "20"));
    String scalesOption = Bench.option(args, "--scales", "0,1,2,4,8");
    String[] scaleText = scalesOption.equals("none") ? new String[0] : scalesOption.split(",");
    String samplerId = Bench.option(args, "--sampler", "dpmpp-2m");
    int steps = Integer.parseInt(Bench.option(args, "--steps", "12"));
    int inpaint = Integer.parseInt(Bench.option(args, "--inpaint", "64"));
    int inpaintSteps = Integer.parseInt(Bench.option(args, "--inpaint-steps", "18"));
    int resample = Integer.parseInt(Bench.option(args, "--resample", "4"));
    int jump = Integer.parseInt(Bench.option(args, "--jump", "1"));
    double pigdmScale = Double.parseDouble(Bench.option(args, "--pigdm-scale", "1"));
    double zeta = Double.parseDouble(Bench.option(args, "--dps-scale", "20"));
    Path out = Path.of(Bench.option(args, "--out", "bench-guidance"));
    Files.createDirectories(out);
    if (model.toString().isEmpty()) {
      model = Bench.trainMnist(out.resolve("model"), data, Integer.parseInt(Bench.option(args, "--train-steps", "3500")));
    }
    PrintStream o = System.out;
    try (TrainedModel tm = TrainedModel.load(model, true); MnistClassifier clf = MnistClassifier.shipped()) {
      if (tm.config().classes() != 10) {
        throw new IllegalArgumentException("--model " + model + " must be a class-conditional MNIST run (10 classes)");
      }
      long[] shape = tm.config().sampleShape();
      DataSource test = DataSources.parse(data + ":test");
      DataSource.HostBatch t = test.first(10_000, 0);
      FeatureStatistics ref = new FeatureStatistics(MnistCnn.FEATURES).add(clf.apply(t.x()).features());
      Grid grid = GridSpec.karras().build(tm.config().process(), steps);
      Sampler sampler = SamplerRegistry.create(samplerId, Map.of());
      o.printf(Locale.ROOT, "guidance benchmark: run %s (step %d), %s %d steps, %d samples per class, FD against %d test "
          + "images (shipped MNIST classifier's features)%n", model, tm.step(), samplerId, steps, perClass, t.labels().length);
      o.printf(Locale.ROOT, "%6s %10s %10s %8s%n", "w", "accuracy", "FD", "time s");
      double[] ws = new double[scaleText.length];
      double[] acc = new double[ws.length];
      double[] fd = new double[ws.length];
      StringBuilder json = new StringBuilder();
      List<double[]> rows = new ArrayList<>();
      for (int s = 0; s < ws.length; s++) {
        ws[s] = Double.parseDouble(scaleText[s].trim());
        long start = System.nanoTime();
        Denoiser d = ws[s] == 1 ? tm.denoiser()
            : new ClassifierFreeGuidance(tm.denoiser(), ws[s], 0, Double.POSITIVE_INFINITY, 0);
        long[] labels = new long[10 * perClass];
        for (int i = 0; i < labels.length; i++) {
          labels[i] = i / perClass;
        }
        double[] x = Sampling.of(d, shape).sampler(sampler).grid(grid).seeds(Sampling.seedRange(0, labels.length - 1))
            .batch(50).dtype(DataType.FLOAT32).conditioning(Conditioning.ofLabels(labels)).run().samples();
        MnistClassifier.Output c = clf.apply(x);
        int right = 0;
        for (int i = 0; i < labels.length; i++) {
          right += c.label(i) == labels[i] ? 1 : 0;
        }
        acc[s] = right / (double) labels.length;
        fd[s] = FrechetDistance.of(new FeatureStatistics(MnistCnn.FEATURES).add(c.features()), ref);
        double secs = (System.nanoTime() - start) / 1e9;
        o.printf(Locale.ROOT, "%6s %9.1f%% %10.2f %8.0f%n", scaleText[s].trim(), 100 * acc[s], fd[s], secs);
        json.append(String.format(Locale.ROOT, "{\"w\": %s, \"accuracy\": %.4f, \"fd\": %.4f, \"n\": %d}%n",
            scaleText[s].trim(), acc[s], fd[s], labels.length));
        double[] firstPerClass = new double[10 * 784];
        for (int k = 0; k < 10; k++) {
          System.arraycopy(x, k * perClass * 784, firstPerClass, k * 784, 784);
        }
        rows.add(firstPerClass);
      }
      String[] lab = new String[ws.length];
      for (int s = 0; s < ws.length; s++) {
        lab[s] = "w=" + scaleText[s].trim();
      }
      if (ws.length > 0) {
      ImageIO.write(TradeOffPlot.plot("MNIST classifier-free guidance: accuracy vs Fréchet distance",
          "FD to the test set (classifier features)", "fraction labelled as requested",
          List.of(new TradeOffPlot.Series("CFG, " + samplerId + " " + steps + " steps", fd, acc, lab,
              new Color(20, 60, 170)))), "png", out.resolve("guidance.png").toFile());
      double[] all = new double[ws.length * 10 * 784];
      for (int s = 0; s < ws.length; s++) {
        System.arraycopy(rows.get(s), 0, all, s * 10 * 784, 10 * 784);
      }
      ImageIO.write(ImageGrid.grid(all, ws.length * 10, 1, 28, 28, 2, 10), "png", out.resolve("guidance-samples.png").toFile());
      Files.writeString(out.resolve("guidance.jsonl"), json.toString());
      }

      if (inpaint > 0) {
        inpainting(o, tm, clf, t, inpaint, inpaintSteps, resample, jump, zeta, pigdmScale, out);
      }
    }
  }

  private static void inpainting(PrintStream o, TrainedModel tm, MnistClassifier clf, DataSource.HostBatch t, int n,
      int steps, int resample, int jump, double zeta, double pigdmScale, Path out) throws Exception {
    int per = 784;
    double[] truth = new double[n * per];
    for (int i = 0; i < n * per; i++) {
      truth[i] = t.x()[i];
    }
    double[] keep = new double[per];
    for (int j = 0; j < per; j++) {
      keep[j] = j / 28 < 14 ? 1 : 0;
    }
    double[] mask = new double[n * per];
    for (int i = 0; i < n; i++) {
      System.arraycopy(keep, 0, mask, i * per, per);
    }
    Grid grid = GridSpec.karras().build(tm.config().process(), steps);
    long[] shape = tm.config().sampleShape();
    Conditioning nulls = Conditioning.label(Conditioning.NULL_LABEL, n);
    Conditioning masked = nulls.withMask(new Conditioning.Mask(mask, truth, per));
    o.printf(Locale.ROOT, "%ninpainting: %d test digits, lower half (rows 14–27) generated, unconditional (null label), "
        + "%d steps%n", n, steps);
    o.printf(Locale.ROOT, "%-22s %10s %12s %6s %8s%n", "method", "PSNR dB", "agreement", "NFE", "time s");
    List<double[]> shown = new ArrayList<>();
    double[] measured = new double[n * per];
    for (int i = 0; i < n * per; i++) {
      measured[i] = truth[i] * mask[i];
    }
    shown.add(truth);
    shown.add(measured);
    StringBuilder json = new StringBuilder();
    for (String method : new String[] {"replace", "repaint", "dps", "pigdm"}) {
      long start = System.nanoTime();
      Sampling.Result r;
      String label;
      if (method.equals("dps") || method.equals("pigdm")) {
        // DPS and ΠGDM guide each digit towards its own upper half: one measurement per run, so one run per digit.
        boolean pi = method.equals("pigdm");
        double[] x = new double[n * per];
        int nfe = 0;
        int diverged = 0;
        for (int i = 0; i < n; i++) {
          double[] y = java.util.Arrays.copyOfRange(measured, i * per, (i + 1) * per);
          try {
            Denoiser guided = pi
                ? new PseudoinverseGuidance(tm.denoiser(), MeasurementOperator.mask(keep), y,
                    PseudoinverseGuidance.Options.of(0, tm.config().sigmaData()).withScale(pigdmScale))
                : new PosteriorSampling(tm.denoiser(), MeasurementOperator.mask(keep), y, zeta);
            Sampling.Result one = Sampling.of(guided, shape).sampler(SamplerRegistry.create("euler", Map.of())).grid(grid).seeds(i)
                .dtype(DataType.FLOAT32).conditioning(Conditioning.label(Conditioning.NULL_LABEL, 1)).run();
            System.arraycopy(one.samples(), 0, x, i * per, per);
            nfe = one.nfeMax();
          } catch (org.diffusion4j.sampling.NonFiniteSampleException e) {
            // Counted as a failure: the masked half stays at 0 (mid-grey), so it costs PSNR and agreement.
            System.arraycopy(y, 0, x, i * per, per);
            diverged++;
          }
        }
        if (diverged > 0) {
          o.printf(Locale.ROOT, "%s: %d of %d digits diverged (non-finite state); scored with the masked half at 0%n",
              pi ? "ΠGDM" : "DPS", diverged, n);
        }
        r = new Sampling.Result(null, x, null, nfe, nfe, System.nanoTime() - start, 0);
        label = pi ? "ΠGDM w=" + pigdmScale + " (euler)" : "DPS ζ=" + zeta + " (euler)";
      } else {
        Sampler s = SamplerRegistry.create("euler-ancestral", Map.of());
        if (method.equals("repaint")) {
          s = new RePaint(s, resample, jump);
        }
        r = Sampling.of(new Inpainting(tm.denoiser()), shape).sampler(s).grid(grid).seeds(Sampling.seedRange(0, n - 1))
            .batch(32).dtype(DataType.FLOAT32).conditioning(masked).run();
        label = method.equals("repaint") ? "RePaint r=" + resample + (jump > 1 ? " j=" + jump : "") : "replacement";
      }
      double mse = 0;
      int count = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < per; j++) {
          if (keep[j] == 0) {
            double d = r.samples()[i * per + j] - truth[i * per + j];
            mse += d * d;
            count++;
          }
        }
      }
      double psnr = 10 * Math.log10(4 / (mse / count));
      MnistClassifier.Output c = clf.apply(r.samples());
      int agree = 0;
      for (int i = 0; i < n; i++) {
        agree += c.label(i) == t.labels()[i] ? 1 : 0;
      }
      double secs = (System.nanoTime() - start) / 1e9;
      o.printf(Locale.ROOT, "%-22s %10.2f %11.1f%% %6d %8.0f%n", label, psnr, 100.0 * agree / n, r.nfeMax(), secs);
      json.append(String.format(Locale.ROOT, "{\"method\": \"%s\", \"psnr\": %.3f, \"agreement\": %.4f, \"n\": %d}%n",
          method, psnr, agree / (double) n, n));
      shown.add(r.samples());
    }
    int cols = Math.min(n, 16);
    double[] grid2 = new double[shown.size() * cols * per];
    for (int row = 0; row < shown.size(); row++) {
      System.arraycopy(shown.get(row), 0, grid2, row * cols * per, cols * per);
    }
    ImageIO.write(ImageGrid.grid(grid2, shown.size() * cols, 1, 28, 28, 2, cols), "png",
        out.resolve("inpainting.png").toFile());
    Files.writeString(out.resolve("inpainting.jsonl"), json.toString());
    o.printf("wrote %s (rows: original, upper half, replacement, RePaint, DPS, ΠGDM)%n", out.resolve("inpainting.png"));
  }
}
