package org.diffusion4j.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.ClassifierFreeGuidance;
import org.diffusion4j.guidance.ClassifierGuidance;
import org.diffusion4j.guidance.Inpainting;
import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PosteriorSampling;
import org.diffusion4j.guidance.SdEdit;
import org.diffusion4j.guidance.Thresholding;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.guidance.ClassifierRun;
import picocli.CommandLine.Option;

/**
 * The steering options of {@code d4j sample} on a trained run: classifier-free guidance, inpainting by
 * replacement, SDEdit and thresholding, each a decorator of the run's denoiser (package
 * {@code org.diffusion4j.guidance}).
 */
final class SteeringOptions {
  @picocli.CommandLine.Spec(picocli.CommandLine.Spec.Target.MIXEE)
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--guidance", paramLabel = "W",
      description = "Classifier-free guidance scale w with --class: D = D_∅ + w·(D_c − D_∅); 1 is the plain "
          + "conditional model, 0 the unconditional one (diffusers' guidance_scale; papers' (1+ω)D_c − ωD_∅ is w = 1+ω).")
  Double guidance;

  @Option(names = "--guidance-interval", paramLabel = "LO,HI", split = ",",
      description = "Apply guidance only for σ in [LO, HI] (Kynkäänniemi et al. 2024); elsewhere the conditional model.")
  double[] guidanceInterval;

  @Option(names = "--guidance-rescale", paramLabel = "PHI", defaultValue = "0",
      description = "Guidance rescaling φ in [0, 1] (Lin et al. 2024; default: ${DEFAULT-VALUE}).")
  double guidanceRescale;

  @Option(names = "--classifier", paramLabel = "DIR",
      description = "Classifier guidance with --class: a classifier run of d4j train-classifier; "
          + "D' = D + s·σ²·∇log p(class | x̂, σ).")
  Path classifier;

  @Option(names = "--classifier-scale", paramLabel = "S", defaultValue = "1",
      description = "With --classifier: the scale s (1: the classifier's own posterior; default: ${DEFAULT-VALUE}).")
  double classifierScale;

  @Option(names = "--reward", paramLabel = "DIR",
      description = "Reward guidance: a Bradley–Terry reward model of d4j align --method reward(-guidance); "
          + "D' = D + S·σ²·∇r(D) (the KL-regularised optimum p·exp(S·r), S = 1/β).")
  Path reward;

  @Option(names = "--reward-scale", paramLabel = "S", defaultValue = "1",
      description = "With --reward: the scale S = 1/β (default: ${DEFAULT-VALUE}).")
  double rewardScale;

  @Option(names = "--measurement", paramLabel = "Y.npy",
      description = "Diffusion posterior sampling (DPS, Chung et al. 2023) towards one measurement y = A(x) in data "
          + "units, shared by all seeds; A is --operator.")
  Path measurement;

  @Option(names = "--operator", paramLabel = "NAME", defaultValue = "identity",
      description = "With --measurement: identity (denoising), sr2, sr4 (box super-resolution; srN), blur or blur:S "
          + "(Gaussian blur of S pixels, default 1) (default: ${DEFAULT-VALUE}).")
  String operator;

  @Option(names = "--dps-scale", paramLabel = "Z", defaultValue = "20",
      description = "With --measurement: the DPS step ζ (default: ${DEFAULT-VALUE}).")
  double dpsScale;

  @Option(names = "--threshold", paramLabel = "KIND",
      description = "Threshold the x0-prediction: static (clip to the data range [-1, 1]) or dynamic[:P] "
          + "(Saharia et al. 2022, quantile P, default 0.995).")
  String threshold;

  @Option(names = "--inpaint", paramLabel = "MASK.png|MASK.npy",
      description = "Inpainting by replacement: white (PNG) or 1 (NPY) marks the pixels to generate, black or 0 the "
          + "pixels kept from --known. PNG: H×W; NPY: the sample shape or H×W.")
  Path inpaint;

  @Option(names = "--known", paramLabel = "X.npy",
      description = "With --inpaint: the known sample(s) in data units (as --out .npy writes them), one for all "
          + "seeds or one per seed.")
  Path known;

  @Option(names = "--sdedit", paramLabel = "INPUT.npy",
      description = "SDEdit (Meng et al. 2022): noise the input(s) to the grid point that --strength picks and "
          + "denoise from there; data units, one for all seeds or one per seed.")
  Path sdedit;

  @Option(names = "--strength", paramLabel = "S", defaultValue = "0.5",
      description = "With --sdedit: the fraction in (0, 1] of the grid's steps run (default: ${DEFAULT-VALUE}).")
  double strength;

  /** Classifier runs opened by {@link #plan}; closed by {@link #close}. */
  private final List<AutoCloseable> opened = new ArrayList<>();

  /** Releases what {@link #plan} opened. */
  void close() {
    for (AutoCloseable a : opened) {
      try {
        a.close();
      } catch (Exception e) {
        // Native memory only; nothing to report.
      }
    }
    opened.clear();
  }

  /** What the options make of a run's sampling. */
  record Plan(Denoiser model, Conditioning conditioning, Grid grid, double[] initial, List<String> notes) {}

  boolean given() {
    return guidance != null || guidanceInterval != null || guidanceRescale != 0 || threshold != null
        || classifier != null || measurement != null || reward != null
        || inpaint != null || known != null || sdedit != null;
  }

  /** Checks the options against the run and builds the decorated model, its conditioning, grid and start. */
  Plan plan(Denoiser base, int classes, DataSource.Affine scaling, long[] shape, long[] seeds, Integer classLabel,
      Grid grid, boolean strengthGiven) throws IOException {
    int n = seeds.length;
    int per = 1;
    for (long v : shape) {
      per = Math.multiplyExact(per, Math.toIntExact(v));
    }
    List<String> notes = new ArrayList<>();
    Conditioning c = classLabel == null ? Conditioning.NONE : Conditioning.label(classLabel, n);
    Denoiser model = base;
    if (classLabel != null && classifier == null
        && (classes == 0 || classLabel < 0 || classLabel >= classes)) {
      throw new IllegalArgumentException("--class " + classLabel + ": the run has " + classes + " classes"
          + (classes == 0 ? " (it is unconditional; guide it with --classifier)" : "; accepted 0.." + (classes - 1)));
    }
    boolean student = base instanceof org.diffusion4j.train.nn.NetworkDenoiser nd
        && org.diffusion4j.train.nn.NetworkDenoiser.guided(nd.network());
    if (student) {
      // A guided-distillation student takes w as an input: one forward per step, no CFG decorator.
      org.diffusion4j.train.nn.MlpConfig mc = ((org.diffusion4j.train.nn.Mlp)
          ((org.diffusion4j.train.nn.NetworkDenoiser) base).network()).config();
      String range = "[" + Format.num(mc.guidanceLo()) + ", " + Format.num(mc.guidanceHi()) + "]";
      if (guidance == null || classLabel == null) {
        throw new IllegalArgumentException("this run is a guided-distillation student (w trained on " + range
            + "): give --guidance W and --class K");
      }
      if (guidanceInterval != null || guidanceRescale != 0) {
        throw new IllegalArgumentException("--guidance-interval and --guidance-rescale do not apply to a "
            + "guided-distillation student (w is an input of its network)");
      }
      double[] ws = new double[n];
      Arrays.fill(ws, guidance);
      c = c.withGuidance(ws);
      notes.add(String.format(Locale.ROOT, "guided student at w = %s towards class %d (trained on w in %s)%s",
          Format.num(guidance), classLabel, range, guidance < mc.guidanceLo() || guidance > mc.guidanceHi()
          ? "; w lies outside the trained range" : ""));
    } else if (guidance != null || guidanceInterval != null || guidanceRescale != 0) {
      if (guidance == null) {
        throw new IllegalArgumentException("--guidance-interval and --guidance-rescale need --guidance W");
      }
      if (classes == 0) {
        throw new IllegalArgumentException("--guidance needs a class-conditional run (train with --class-conditional); "
            + "this run is unconditional");
      }
      if (classLabel == null) {
        throw new IllegalArgumentException("--guidance needs --class K (the class to guide towards)");
      }
      double lo = 0;
      double hi = Double.POSITIVE_INFINITY;
      if (guidanceInterval != null) {
        if (guidanceInterval.length != 2) {
          throw new IllegalArgumentException("--guidance-interval takes LO,HI, got " + guidanceInterval.length
              + " values");
        }
        lo = guidanceInterval[0];
        hi = guidanceInterval[1];
      }
      model = new ClassifierFreeGuidance(model, guidance, lo, hi, guidanceRescale);
      notes.add(String.format(Locale.ROOT, "classifier-free guidance w = %s towards class %d%s", Format.num(guidance),
          classLabel, guidanceInterval != null ? " for σ in [" + Format.num(lo) + ", " + Format.num(hi) + "]" : ""));
    }
    if (classifier != null) {
      if (classLabel == null) {
        throw new IllegalArgumentException("--classifier needs --class K (the class to guide towards)");
      }
      ClassifierRun cr = ClassifierRun.load(classifier);
      opened.add(cr);
      if (!Arrays.equals(shape, cr.config().shape())) {
        throw new IllegalArgumentException("--classifier " + classifier + " classifies samples of shape "
            + Arrays.toString(cr.config().shape()) + " but the model's samples have shape " + Arrays.toString(shape));
      }
      if (classLabel < 0 || classLabel >= cr.config().classes()) {
        throw new IllegalArgumentException("--class " + classLabel + ": the classifier has " + cr.config().classes()
            + " classes; accepted 0.." + (cr.config().classes() - 1));
      }
      // A class-conditional model is also given the label (Dhariwal & Nichol's conditional ADM-G).
      model = new ClassifierGuidance(model, cr.classifier(), classifierScale, classes > 0);
      notes.add(String.format(Locale.ROOT, "classifier guidance s = %s towards class %d (%s)",
          Format.num(classifierScale), classLabel, classifier));
    }
    if (reward != null) {
      org.diffusion4j.train.align.RewardModel rm = org.diffusion4j.train.align.RewardModel.load(reward);
      opened.add(rm);
      if (!Arrays.equals(rm.sampleShape(), shape)) {
        throw new IllegalArgumentException("--reward " + reward + " scores samples of shape "
            + Arrays.toString(rm.sampleShape()) + " but the model's samples have shape " + Arrays.toString(shape));
      }
      model = new org.diffusion4j.guidance.RewardGuidance(model, rm.reward(), rewardScale);
      notes.add(String.format(Locale.ROOT, "reward guidance S = %s (%s)", Format.num(rewardScale), reward));
    } else if (spec != null && spec.commandLine().getParseResult().hasMatchedOption("--reward-scale")) {
      throw new IllegalArgumentException("--reward-scale applies to --reward only");
    }
    if (measurement != null) {
      MeasurementOperator a = MeasurementOperator.parse(operator);
      long[] ms = a.measurementShape(shape);
      if (!measurement.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")
          || !Files.isRegularFile(measurement)) {
        throw new IllegalArgumentException("--measurement " + measurement + ": no such .npy file");
      }
      NpyArray y = Npy.read(measurement);
      long size = Arrays.stream(y.shape()).reduce(1, (u, v) -> u * v);
      long expected = Arrays.stream(ms).reduce(1, (u, v) -> u * v);
      if (size != expected) {
        throw new IllegalArgumentException("--measurement " + measurement + ": shape " + Arrays.toString(y.shape())
            + " but " + a.describe() + " of samples " + Arrays.toString(shape) + " gives " + Arrays.toString(ms));
      }
      // A is linear: A(a·x + b) = a·A(x) + b·A(1) (A(1) = 1 but at a zero-padded blur's border).
      double[] ones;
      try (ai.djl.ndarray.NDManager nm = ai.djl.ndarray.NDManager.newBaseManager()) {
        long[] full = new long[shape.length + 1];
        full[0] = 1;
        System.arraycopy(shape, 0, full, 1, shape.length);
        ones = a.apply(nm.ones(new ai.djl.ndarray.types.Shape(full), ai.djl.ndarray.types.DataType.FLOAT64))
            .toDoubleArray();
      }
      double[] stored = y.data().clone();
      for (int i = 0; i < stored.length; i++) {
        stored[i] = scaling.scale() * stored[i] + scaling.shift() * ones[i];
      }
      model = new PosteriorSampling(model, a, stored, dpsScale);
      notes.add(String.format(Locale.ROOT, "DPS (%s) ζ = %s", a.describe(), Format.num(dpsScale)));
    } else if (spec != null && spec.commandLine().getParseResult().hasMatchedOption("--operator")) {
      throw new IllegalArgumentException("--operator applies to --measurement only");
    }
    if (inpaint != null || known != null) {
      if (inpaint == null || known == null) {
        throw new IllegalArgumentException("inpainting needs both --inpaint MASK and --known X.npy");
      }
      double[] generate = readMask(inpaint, shape);
      double[] k = readSamples(known, "--known", shape, n, scaling);
      double[] mask = new double[n * per];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < per; j++) {
          mask[i * per + j] = 1 - generate[j];
        }
      }
      c = c.withMask(new Conditioning.Mask(mask, k, per));
      model = new Inpainting(model);
      long kept = Arrays.stream(generate).filter(v -> v < 0.5).count();
      notes.add(String.format(Locale.ROOT, "inpainting by replacement: %d of %d values known", kept, per));
    }
    if (threshold != null) {
      model = Thresholding.parse(threshold, model, 1);
      notes.add(model.toString());
    }
    double[] initial = null;
    if (sdedit != null) {
      grid = SdEdit.grid(grid, strength);
      initial = SdEdit.start(readSamples(sdedit, "--sdedit", shape, n, scaling), grid, seeds);
      notes.add(String.format(Locale.ROOT, "SDEdit strength %s: %d steps from σ %s", Format.num(strength),
          grid.steps(), Format.num(grid.sigma(0))));
    } else if (strengthGiven) {
      throw new IllegalArgumentException("--strength applies to --sdedit only");
    }
    return new Plan(model, c, grid, initial, notes);
  }

  /** 1 where to generate, one sample's values. */
  private static double[] readMask(Path file, long[] shape) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--inpaint: no such file: " + file);
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    int per = 1;
    for (long v : shape) {
      per *= (int) v;
    }
    boolean image = shape.length == 3;
    int h = image ? (int) shape[1] : 0;
    int w = image ? (int) shape[2] : 0;
    double[] plane;
    if (name.endsWith(".png")) {
      if (!image) {
        throw new IllegalArgumentException("--inpaint " + file + ": a PNG mask needs an image model; this one has shape "
            + Arrays.toString(shape) + " (use .npy)");
      }
      BufferedImage img = ImageIO.read(file.toFile());
      if (img == null) {
        throw new IllegalArgumentException("--inpaint " + file + ": not a readable PNG");
      }
      if (img.getWidth() != w || img.getHeight() != h) {
        throw new IllegalArgumentException("--inpaint " + file + ": the mask is " + img.getWidth() + "×"
            + img.getHeight() + " but the samples are " + w + "×" + h);
      }
      plane = new double[h * w];
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = img.getRGB(x, y);
          int grey = ((rgb >> 16 & 0xff) + (rgb >> 8 & 0xff) + (rgb & 0xff)) / 3;
          plane[y * w + x] = grey > 127 ? 1 : 0;
        }
      }
    } else if (name.endsWith(".npy")) {
      NpyArray a = Npy.read(file);
      long size = Arrays.stream(a.shape()).reduce(1, (x, y) -> x * y);
      boolean full = size == per && (Arrays.equals(a.shape(), shape) || a.shape().length <= 1);
      boolean planar = image && Arrays.equals(a.shape(), new long[] {h, w});
      if (!full && !planar) {
        throw new IllegalArgumentException("--inpaint " + file + ": mask shape " + Arrays.toString(a.shape())
            + " does not match the sample shape " + Arrays.toString(shape)
            + (image ? " or [" + h + ", " + w + "]" : ""));
      }
      plane = a.data();
      for (int i = 0; i < plane.length; i++) {
        if (!(plane[i] >= 0 && plane[i] <= 1)) {
          throw new IllegalArgumentException("--inpaint " + file + ": mask value " + plane[i] + " at index " + i
              + " is outside [0, 1]");
        }
      }
      if (full) {
        return plane;
      }
    } else {
      throw new IllegalArgumentException("--inpaint " + file + ": a mask must be .png or .npy");
    }
    double[] m = new double[per];
    int c = per / plane.length;
    for (int ch = 0; ch < c; ch++) {
      System.arraycopy(plane, 0, m, ch * plane.length, plane.length);
    }
    return m;
  }

  /** One sample (repeated for every seed) or one per seed, in the run's stored scale. */
  private static double[] readSamples(Path file, String option, long[] shape, int n, DataSource.Affine scaling)
      throws IOException {
    if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
      throw new IllegalArgumentException(option + " " + file + ": must be a .npy file");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(option + ": no such file: " + file);
    }
    NpyArray a = Npy.read(file);
    int per = 1;
    for (long v : shape) {
      per *= (int) v;
    }
    double[] d = a.data();
    long[] s = a.shape();
    boolean one = Arrays.equals(s, shape) || (s.length == shape.length + 1 && s[0] == 1
        && Arrays.equals(Arrays.copyOfRange(s, 1, s.length), shape));
    boolean each = s.length == shape.length + 1 && s[0] == n && Arrays.equals(Arrays.copyOfRange(s, 1, s.length), shape);
    if (!one && !each) {
      throw new IllegalArgumentException(option + " " + file + ": shape " + Arrays.toString(s) + " is neither one sample "
          + Arrays.toString(shape) + " nor one per seed [" + n + ", …]");
    }
    double[] out = new double[n * per];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < per; j++) {
        double raw = d[one ? j : i * per + j];
        if (!Double.isFinite(raw)) {
          throw new IllegalArgumentException(option + " " + file + ": value " + raw + " is not finite");
        }
        out[i * per + j] = scaling.scale() * raw + scaling.shift();
      }
    }
    return out;
  }
}
