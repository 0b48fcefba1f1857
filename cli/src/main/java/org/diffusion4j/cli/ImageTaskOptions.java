package org.diffusion4j.cli;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.guidance.ClassifierFreeGuidance;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import picocli.CommandLine.Option;

/**
 * What {@code d4j inpaint}, {@code restore}, {@code sdedit} and {@code invert} share: a trained image run,
 * one input image (PNG in the run's resolution), a Karras grid on the run's process, seeds, an optional
 * class with classifier-free guidance, and the two outputs — the result (PNG grid of the seeds' results
 * or .npy in the data's raw units) and a side-by-side picture (input, measurement, results).
 */
final class ImageTaskOptions {
  @Option(names = "--model", required = true, paramLabel = "RUN", description = "A trained image run (d4j train).")
  Path model;

  @Option(names = "--image", required = true, paramLabel = "IN.png",
      description = "The input image, in the run's resolution (grey or RGB as the run's channels).")
  Path image;

  @Option(names = "--out", required = true, paramLabel = "FILE.png|FILE.npy",
      description = "The result: a PNG (one image per seed, in a row) or .npy in the data's raw units; the side-by-side "
          + "picture goes next to it as FILE-compare.png.")
  Path out;

  @Option(names = "--steps", paramLabel = "N", defaultValue = "32",
      description = "Steps of the Karras grid on the run's process (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--sampler", paramLabel = "ID", description = "The sampler (default: the method's own).")
  String sampler;

  @Option(names = "--seeds", paramLabel = "LIST", defaultValue = "0-3",
      description = "Seeds, one result each (default: ${DEFAULT-VALUE}).")
  String seeds;

  @Option(names = "--class", paramLabel = "K", description = "For a class-conditional run: the class (default: none).")
  Integer classLabel;

  @Option(names = "--guidance", paramLabel = "W",
      description = "With --class: classifier-free guidance scale (default: 1, the conditional model).")
  Double guidance;

  @Option(names = "--weights", paramLabel = "KIND", defaultValue = "ema", description = "ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  /** The opened run and what the task needs of it. */
  record Task(TrainedModel run, RunConfig config, long[] shape, int per, double[] input, Denoiser model,
      Conditioning conditioning, Grid grid, long[] seeds) implements AutoCloseable {
    @Override
    public void close() {
      run.close();
    }
  }

  /** Checks the outputs, opens the run, reads the image and builds the (guided) model. */
  Task open() throws IOException {
    return open(java.util.function.UnaryOperator.identity(), "--image");
  }

  /**
   * As {@link #open()}, with the image read in the shape {@code imageShape} makes of the sample shape
   * (a measurement smaller than the samples); {@code what} names it in messages.
   */
  Task open(java.util.function.UnaryOperator<long[]> imageShape, String what) throws IOException {
    String kind = SampleCommand.kind(out, "--out", "png", "npy");
    if (Files.isDirectory(out)) {
      throw new IllegalArgumentException("--out " + out + " is a directory; give a file name");
    }
    if (steps < 1 || steps > 10_000) {
      throw new IllegalArgumentException("--steps must be in 1..10000, got " + steps);
    }
    boolean ema = switch (weights.toLowerCase(Locale.ROOT)) {
      case "ema" -> true;
      case "raw" -> false;
      default -> throw new IllegalArgumentException("unknown --weights '" + weights + "'; accepted: ema, raw");
    };
    if (!Files.isDirectory(model) || !RunDirs.isRun(model)) {
      throw new IllegalArgumentException("--model " + model + ": not a run directory of d4j train");
    }
    TrainedModel tm = TrainedModel.load(model, ema);
    try {
      RunConfig rc = tm.config();
      long[] shape = rc.sampleShape();
      if (shape.length != 3) {
        throw new IllegalArgumentException("--model " + model + " samples shape " + java.util.Arrays.toString(shape)
            + "; this command needs an image run");
      }
      double[] input = readImage(image, what, imageShape.apply(shape), rc.scaling());
      Denoiser d = tm.denoiser();
      Conditioning c = Conditioning.NONE;
      long[] s = SeededNoise.parseSeeds(seeds);
      if (guidance != null && classLabel == null) {
        throw new IllegalArgumentException("--guidance needs --class K");
      }
      if (classLabel != null) {
        if (rc.classes() == 0 || classLabel < 0 || classLabel >= rc.classes()) {
          throw new IllegalArgumentException("--class " + classLabel + ": the run has " + rc.classes() + " classes"
              + (rc.classes() == 0 ? " (it is unconditional)" : "; accepted 0.." + (rc.classes() - 1)));
        }
        c = Conditioning.label(classLabel, s.length);
        if (guidance != null && guidance != 1) {
          d = new ClassifierFreeGuidance(d, guidance, 0, Double.POSITIVE_INFINITY, 0);
        }
      }
      Grid g = GridSpec.karras().build(rc.process(), steps);
      return new Task(tm, rc, shape, (int) (shape[0] * shape[1] * shape[2]), input, d, c, g, s);
    } catch (RuntimeException | IOException e) {
      tm.close();
      throw e;
    }
  }

  /** The sampler: --sampler or the method's default. */
  Sampler sampler(String fallback) {
    return SamplerRegistry.create(sampler == null ? fallback : sampler, Map.of());
  }

  /** A PNG image as one sample in the run's stored scale (its raw pixel values 0…255 through the run's scaling). */
  static double[] readImage(Path file, String option, long[] shape,
      org.diffusion4j.train.data.DataSource.Affine scaling) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(option + ": no such file: " + file);
    }
    BufferedImage img = ImageIO.read(file.toFile());
    if (img == null) {
      throw new IllegalArgumentException(option + " " + file + ": not a readable image (PNG)");
    }
    int c = (int) shape[0];
    int h = (int) shape[1];
    int w = (int) shape[2];
    if (img.getWidth() != w || img.getHeight() != h) {
      throw new IllegalArgumentException(option + " " + file + ": the image is " + img.getWidth() + "×"
          + img.getHeight() + " but the run's samples are " + w + "×" + h);
    }
    double[] x = new double[c * h * w];
    for (int y = 0; y < h; y++) {
      for (int z = 0; z < w; z++) {
        int rgb = img.getRGB(z, y);
        int[] ch = {rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff};
        for (int k = 0; k < c; k++) {
          double raw = c == 1 ? (ch[0] + ch[1] + ch[2]) / 3.0 : ch[k];
          x[k * h * w + y * w + z] = scaling.scale() * raw + scaling.shift();
        }
      }
    }
    return x;
  }

  /** Writes the results (stored scale, n samples) as --out, and the side-by-side picture; prints both paths. */
  void write(Task t, double[] results, int n, List<double[]> panels, List<String> labels, PrintWriter w)
      throws IOException {
    int c = (int) t.shape()[0];
    int h = (int) t.shape()[1];
    int wd = (int) t.shape()[2];
    int zoom = h <= 32 ? 4 : 1;
    if (out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
      double[] raw = results.clone();
      for (int i = 0; i < raw.length; i++) {
        raw[i] = t.config().scaling().invert(raw[i]);
      }
      Npy.write(out, raw, new long[] {n, c, h, wd}, false);
    } else {
      AtomicFiles.write(out, ModelPreview.png(ImageGrid.grid(results, n, c, h, wd, zoom, n)));
    }
    Path compare = compareFile(out);
    AtomicFiles.write(compare, ModelPreview.png(sideBySide(panels, labels, c, h, wd, zoom)));
    w.printf("wrote %s and %s%n", out, compare);
  }

  /** FILE.png → FILE-compare.png next to it. */
  static Path compareFile(Path out) {
    String name = out.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return out.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + "-compare.png");
  }

  /** One labelled panel per image (stored scale, one sample each), left to right. */
  static BufferedImage sideBySide(List<double[]> panels, List<String> labels, int c, int h, int w, int zoom) {
    int gap = 4;
    int title = 16;
    int pw = Math.max(w * zoom, 72);
    BufferedImage img = new BufferedImage(panels.size() * (pw + gap) + gap, h * zoom + title + 2 * gap,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setColor(Color.BLACK);
    g.setFont(g.getFont().deriveFont(10f));
    for (int k = 0; k < panels.size(); k++) {
      int x0 = gap + k * (pw + gap);
      g.drawString(labels.get(k), x0, title - 4);
      g.drawImage(ImageGrid.image(panels.get(k), 0, c, h, w, zoom), x0, title + gap, null);
    }
    g.dispose();
    return img;
  }

  /** Sample k of a batch of samples of {@code per} values. */
  static double[] sample(double[] x, int k, int per) {
    return java.util.Arrays.copyOfRange(x, k * per, (k + 1) * per);
  }
}
