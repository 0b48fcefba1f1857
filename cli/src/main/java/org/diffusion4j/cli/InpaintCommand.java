package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.Inpainting;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PosteriorSampling;
import org.diffusion4j.guidance.RePaint;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.Sampling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j inpaint}: fill the masked part of an image with a trained run. */
@Command(name = "inpaint", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Inpaint an image with a trained image run: the mask's white pixels are generated, black ones kept.",
        "replace: the known pixels replace the x0-prediction (Song et al. 2021); repaint: the same with RePaint's "
            + "resampling, each step taken --resample times, going back --jump steps at a time (Lugmayr et al. 2022); "
            + "dps: diffusion posterior sampling towards the masked image (Chung et al. 2023); pigdm: pseudoinverse-"
            + "guided diffusion (ΠGDM, Song et al. 2023), the mask's closed-form inverse. Writes the results (one per seed) and FILE-compare.png "
            + "(input, measurement, results)."},
    footer = {"", "Example:",
        "  d4j inpaint --model runs/mnist --image digit.png --mask lower-half.png --method repaint --out filled.png"})
public final class InpaintCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ImageTaskOptions task;

  @Option(names = "--mask", required = true, paramLabel = "MASK.png",
      description = "White (> 50 % grey) marks the pixels to generate; the image's size.")
  Path mask;

  @Option(names = "--method", paramLabel = "M", defaultValue = "repaint",
      description = "replace | repaint | dps | pigdm (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--resample", paramLabel = "R", defaultValue = "5",
      description = "repaint: takes per step, r (default: ${DEFAULT-VALUE}).")
  int resample;

  @Option(names = "--jump", paramLabel = "J", defaultValue = "1",
      description = "repaint: the jump length j, steps gone back at a time (default: ${DEFAULT-VALUE}; "
          + "Lugmayr et al. use 10 on 250 steps).")
  int jump;

  @Mixin
  PigdmOptions pigdm;

  @Option(names = "--dps-scale", paramLabel = "Z", defaultValue = "20",
      description = "dps: the step ζ (default: ${DEFAULT-VALUE}).")
  double dpsScale;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    String m = method.toLowerCase(Locale.ROOT);
    if (!List.of("replace", "repaint", "dps", "pigdm").contains(m)) {
      throw new IllegalArgumentException("unknown --method '" + method + "'; accepted: replace, repaint, dps, pigdm");
    }
    var parsed = spec.commandLine().getParseResult();
    for (String o : new String[] {"--resample", "--jump"}) {
      if (!m.equals("repaint") && parsed.hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " applies to --method repaint only");
      }
    }
    for (String o : PigdmOptions.NAMES) {
      if (!m.equals("pigdm") && parsed.hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " applies to --method pigdm only");
      }
    }

    try (ImageTaskOptions.Task t = task.open()) {
      double[] generate = readMask(mask, t.shape());
      int n = t.seeds().length;
      int per = t.per();
      double[] keep = new double[per];
      double[] measured = new double[per];
      for (int j = 0; j < per; j++) {
        keep[j] = 1 - generate[j];
        measured[j] = keep[j] * t.input()[j];
      }
      Denoiser model;
      Conditioning c = t.conditioning();
      Sampler sampler;
      if (m.equals("dps")) {
        model = new PosteriorSampling(t.model(), MeasurementOperator.mask(keep), measured, dpsScale);
        sampler = task.sampler("euler");
      } else if (m.equals("pigdm")) {
        model = pigdm.build(t.model(), MeasurementOperator.mask(keep), measured, 0, t.config().sigmaData());
        w.println(pigdm.describe(MeasurementOperator.mask(keep), 0, t.config().sigmaData()));
        sampler = task.sampler("euler");
      } else {
        double[] mk = new double[n * per];
        double[] known = new double[n * per];
        for (int i = 0; i < n; i++) {
          System.arraycopy(keep, 0, mk, i * per, per);
          System.arraycopy(t.input(), 0, known, i * per, per);
        }
        c = c.withMask(new Conditioning.Mask(mk, known, per));
        model = new Inpainting(t.model());
        sampler = task.sampler("euler-ancestral");
        if (m.equals("repaint")) {
          sampler = new RePaint(sampler, resample, jump);
          RePaint.schedule(t.grid().steps(), resample, jump);
        }
      }
      Sampling.Result r = Sampling.of(model, t.shape()).sampler(sampler).grid(t.grid()).seeds(t.seeds())
          .batch(Math.min(n, 16)).dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(c).run();
      w.printf(Locale.ROOT, "inpainting (%s) with %s on %d steps, %d seeds, NFE %s, %.1f s%n", m, sampler.id(),
          t.grid().steps(), n, r.nfeText(), r.nanos() / 1e9);
      double known = 0;
      for (int j = 0; j < per; j++) {
        known += keep[j];
      }
      w.printf(Locale.ROOT, "known     %d of %d values%n", (int) known, per);
      List<double[]> panels = new ArrayList<>(List.of(t.input(), measured));
      List<String> labels = new ArrayList<>(List.of("input", "measurement"));
      for (int k = 0; k < n; k++) {
        panels.add(ImageTaskOptions.sample(r.samples(), k, per));
        labels.add("seed " + t.seeds()[k]);
      }
      task.write(t, r.samples(), n, panels, labels, w);
    }
    return 0;
  }

  /** 1 where to generate, one sample's values (the mask's plane repeated over channels). */
  static double[] readMask(Path file, long[] shape) throws java.io.IOException {
    double[] grey = ImageTaskOptions.readImage(file, "--mask", new long[] {1, shape[1], shape[2]},
        new org.diffusion4j.train.data.DataSource.Affine(1 / 255.0, 0));
    int plane = grey.length;
    double[] m = new double[(int) shape[0] * plane];
    for (int ch = 0; ch < shape[0]; ch++) {
      for (int j = 0; j < plane; j++) {
        m[ch * plane + j] = grey[j] > 0.5 ? 1 : 0;
      }
    }
    return m;
  }
}
