package org.diffusion4j.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PosteriorSampling;
import org.diffusion4j.sampling.Sampling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j restore}: solve an inverse problem y = A(x) + noise with a trained run as the prior. */
@Command(name = "restore", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Restore an image from a measurement y = A(x) + n with diffusion posterior sampling (dps: DPS, Chung et "
        + "al. 2023) or pseudoinverse guidance (pigdm: ΠGDM, Song et al. 2023; closed-form inverse for srN and identity, "
        + "conjugate gradients for blur): A is --operator (sr2, sr4: box super-resolution; blur, blur:S: Gaussian blur of S pixels; "
        + "identity: denoising). By default --image is the clean image and the measurement is made from it (with "
        + "--noise-std of Gaussian noise, in the data's stored units, [-1, 1] for images); with --measured it is y "
        + "itself (for srN: the small image). Writes the results and FILE-compare.png (input, measurement, results)."},
    footer = {"", "Example:",
        "  d4j restore --model runs/mnist --image digit.png --operator sr4 --noise-std 0.05 --out restored.png"})
public final class RestoreCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ImageTaskOptions task;

  @Option(names = "--operator", required = true, paramLabel = "A", description = "sr2 | sr4 | srN | blur | blur:S | identity.")
  String operator;

  @Option(names = "--method", paramLabel = "M", defaultValue = "dps",
      description = "dps | pigdm (default: ${DEFAULT-VALUE}).")
  String method;

  @Mixin
  PigdmOptions pigdm;

  @Option(names = "--measured", description = "--image is the measurement y itself, not the clean image.")
  boolean measured;

  @Option(names = "--noise-std", paramLabel = "S", defaultValue = "0",
      description = "Gaussian noise added to the measurement made from --image, stored units (default: ${DEFAULT-VALUE}).")
  double noiseStd;

  @Option(names = "--noise-seed", paramLabel = "N", defaultValue = "0", description = "Seed of that noise (default: ${DEFAULT-VALUE}).")
  long noiseSeed;

  @Option(names = "--dps-scale", paramLabel = "Z", defaultValue = "20", description = "The DPS step ζ (default: ${DEFAULT-VALUE}).")
  double dpsScale;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    String m0 = method.toLowerCase(Locale.ROOT);
    if (!m0.equals("dps") && !m0.equals("pigdm")) {
      throw new IllegalArgumentException("unknown --method '" + method + "'; accepted: dps, pigdm");
    }
    boolean pi = m0.equals("pigdm");
    for (String o : PigdmOptions.NAMES) {
      if (!pi && spec.commandLine().getParseResult().hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " applies to --method pigdm only");
      }
    }
    if (!(noiseStd >= 0) || Double.isInfinite(noiseStd)) {
      throw new IllegalArgumentException("--noise-std must be finite and >= 0, got " + noiseStd);
    }
    if (measured && spec.commandLine().getParseResult().hasMatchedOption("--noise-std")) {
      throw new IllegalArgumentException("--noise-std makes a measurement from a clean --image; with --measured the image "
          + "is already y");
    }
    MeasurementOperator a = MeasurementOperator.parse(operator);
    ImageTaskOptions.Task probe = null;
    try {
      long[] shape;
      double[] y;
      double[] input;
      ImageTaskOptions.Task t;
      if (measured) {
        t = task.open(a::measurementShape, "--image (the measurement y)");
        shape = t.shape();
        y = t.input();
        input = null;
      } else {
        t = task.open();
        shape = t.shape();
        input = t.input();
        try (NDManager m = NDManager.newBaseManager()) {
          long[] full = new long[shape.length + 1];
          full[0] = 1;
          System.arraycopy(shape, 0, full, 1, shape.length);
          y = a.apply(m.create(input, new Shape(full))).toDoubleArray();
        }
        SplittableRandom r = new SplittableRandom(noiseSeed);
        for (int i = 0; i < y.length; i++) {
          y[i] += noiseStd * r.nextGaussian();
        }
      }
      probe = t;
      long[] ms = a.measurementShape(shape);
      Denoiser guided = pi ? pigdm.build(t.model(), a, y, noiseStd, t.config().sigmaData())
          : new PosteriorSampling(t.model(), a, y, dpsScale);
      int n = t.seeds().length;
      var sampler = task.sampler("euler");
      Sampling.Result r = Sampling.of(guided, shape).sampler(sampler).grid(t.grid()).seeds(t.seeds()).batch(Math.min(n, 16))
          .dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(t.conditioning()).run();
      double[] res;
      try (NDManager m = NDManager.newBaseManager()) {
        long[] full = new long[shape.length + 1];
        full[0] = n;
        System.arraycopy(shape, 0, full, 1, shape.length);
        res = residual(a, y, m.create(r.samples(), new Shape(full)));
      }
      String what = pi ? pigdm.describe(a, noiseStd, t.config().sigmaData())
          : String.format(Locale.ROOT, "DPS (%s, ζ = %s)", a.describe(), Format.num(dpsScale));
      w.printf(Locale.ROOT, "%s with %s on %d steps, %d seeds, NFE %s, %.1f s%n", what, sampler.id(),
          t.grid().steps(), n, r.nfeText(), r.nanos() / 1e9);
      w.printf(Locale.ROOT, "residual  ‖y − A(x)‖ mean %.4f over the seeds (measurement noise norm ≈ %.4f)%n",
          Arrays.stream(res).average().orElse(Double.NaN), noiseStd * Math.sqrt(y.length));
      int per = t.per();
      if (input != null) {
        double mse = 0;
        for (int k = 0; k < n; k++) {
          for (int j = 0; j < per; j++) {
            double d = r.samples()[k * per + j] - input[j];
            mse += d * d / (n * per);
          }
        }
        // PSNR on the stored range [-1, 1] (peak-to-peak 2).
        w.printf(Locale.ROOT, "PSNR      %.2f dB against the clean image (mean over the seeds)%n",
            10 * Math.log10(4 / mse));
      }
      List<double[]> panels = new ArrayList<>();
      List<String> labels = new ArrayList<>();
      if (input != null) {
        panels.add(input);
        labels.add("input");
      }
      panels.add(upsample(y, ms, shape));
      labels.add("measurement");
      for (int k = 0; k < n; k++) {
        panels.add(ImageTaskOptions.sample(r.samples(), k, per));
        labels.add("seed " + t.seeds()[k]);
      }
      task.write(t, r.samples(), n, panels, labels, w);
    } finally {
      if (probe != null) {
        probe.close();
      }
    }
    return 0;
  }

  /** Per-sample {@code ‖y − A(x)‖} of a batch of samples. */
  static double[] residual(MeasurementOperator a, double[] y, NDArray x) {
    double[] ax = a.apply(x).toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
    int n = (int) x.getShape().get(0);
    double[] res = new double[n];
    for (int k = 0; k < n; k++) {
      double s = 0;
      for (int j = 0; j < y.length; j++) {
        double d = y[j] - ax[k * y.length + j];
        s += d * d;
      }
      res[k] = Math.sqrt(s);
    }
    return res;
  }

  /** A measurement as an image of the sample's size: nearest-neighbour upsampling of srN, as is otherwise. */
  static double[] upsample(double[] y, long[] ms, long[] shape) {
    if (Arrays.equals(ms, shape)) {
      return y;
    }
    int c = (int) shape[0];
    int h = (int) shape[1];
    int w = (int) shape[2];
    int mh = (int) ms[1];
    int mw = (int) ms[2];
    double[] out = new double[c * h * w];
    for (int k = 0; k < c; k++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          out[k * h * w + i * w + j] = y[k * mh * mw + (i * mh / h) * mw + j * mw / w];
        }
      }
    }
    return out;
  }
}
