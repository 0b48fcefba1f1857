package org.diffusion4j.train.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.io.NpyArray;

/**
 * Data sets by their CLI spelling:
 * <ul>
 *   <li>{@code two-moons}, {@code 8-gaussians}, {@code checkerboard}, {@code swiss-roll}, {@code pinwheel},
 *       {@code circles}: 2-D toys ({@link Toy}); {@code demo}: the demo's embedded 8-component mixture
 *       ({@link GaussianMixture#demo2d()});</li>
 *   <li>{@code gmm:FILE.json}: samples of a Gaussian mixture in its JSON form;</li>
 *   <li>{@code mnist:DIR} (or {@code mnist:DIR:test} for the t10k files): IDX files, plain or gzip;</li>
 *   <li>{@code images:DIR}: PNG/JPEG folder, resized and centre-cropped to the options' resolution;</li>
 *   <li>{@code npy:FILE}, {@code npz:FILE[:KEY]}, {@code csv:FILE}: arrays [n, …] of samples.</li>
 * </ul>
 * Class labels, for class-conditional training and classifiers: mixtures carry the class of each draw's
 * component (the JSON's {@code "labels"}, else the component index); MNIST its labels file; an image
 * folder whose images all lie in sub-folders one label per top-level sub-folder (in name order); CSV a
 * column headed {@code label} or {@code class}; NPZ an array named {@code labels}.
 * Errors name the file and what is wrong with it.
 */
public final class DataSources {
  private DataSources() {}

  /** The spellings accepted, for help texts. */
  public static String spellings() {
    return Arrays.stream(Toy.values()).map(Toy::spelling).collect(Collectors.joining("|"))
        + "|demo|gmm:FILE.json|mnist:DIR[:test]|images:DIR|npy:FILE|npz:FILE[:KEY]|csv:FILE";
  }

  /** Parses a spelling with the default options. */
  public static DataSource parse(String spec) {
    return parse(spec, DataOptions.defaults());
  }

  /** Parses a spelling; file sets are read now (errors surface here). */
  public static DataSource parse(String spec, DataOptions options) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("no data set given; accepted: " + spellings());
    }
    Toy toy = Toy.bySpelling(spec);
    if (toy != null) {
      return toy;
    }
    if (spec.equals("demo")) {
      return new MixtureSource(GaussianMixture.demo2d(), "demo");
    }
    int colon = spec.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("unknown data set '" + spec + "'; accepted: " + spellings());
    }
    String kind = spec.substring(0, colon);
    String arg = spec.substring(colon + 1);
    if (arg.isEmpty()) {
      throw new IllegalArgumentException("data set '" + spec + "' needs a path after '" + kind + ":'");
    }
    try {
      switch (kind) {
        case "gmm": {
          Path f = Path.of(arg);
          if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("no such file: " + f);
          }
          LabelledMixture g;
          try {
            g = LabelledMixture.fromJson(new String(org.diffusion4j.io.AtomicFiles.readAll(f), java.nio.charset.StandardCharsets.UTF_8));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() != null && e.getMessage().startsWith(f.toString())
                ? e.getMessage() : f + ": " + e.getMessage());
          }
          return new MixtureSource(g, spec);
        }
        case "mnist": {
          String split = "train";
          if (arg.endsWith(":test") || arg.endsWith(":train")) {
            split = arg.endsWith(":test") ? "t10k" : "train";
            arg = arg.substring(0, arg.lastIndexOf(':'));
          }
          return Mnist.load(Path.of(arg), split, options);
        }
        case "images":
          return ImageFolder.load(Path.of(arg), options);
        case "npy":
          return NumericFiles.npy(Path.of(arg), options);
        case "npz": {
          int k = arg.lastIndexOf(':');
          boolean keyed = k > 0 && arg.substring(0, k).toLowerCase(java.util.Locale.ROOT).endsWith(".npz")
              && !Files.exists(Path.of(arg));
          return keyed ? NumericFiles.npz(Path.of(arg.substring(0, k)), arg.substring(k + 1), options)
              : NumericFiles.npz(Path.of(arg), null, options);
        }
        case "csv":
          return NumericFiles.csv(Path.of(arg), options);
        default:
          throw new IllegalArgumentException("unknown data set kind '" + kind + "' in '" + spec + "'; accepted: "
              + spellings());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading data set '" + spec + "': " + e.getMessage(), e);
    }
  }

  /**
   * {@code n} samples of {@code spec} drawn with {@code new SplittableRandom(seed)} as float64
   * [n, …] (the values training sees, as {@code d4j data} writes them).
   */
  public static NpyArray drawPoints(String spec, int n, long seed) {
    DataSource s = parse(spec);
    DataSource.HostBatch b = s.sample(n, new SplittableRandom(seed));
    double[] d = new double[b.x().length];
    for (int i = 0; i < d.length; i++) {
      d[i] = b.x()[i];
    }
    return new NpyArray(b.shape(), d, "<f8");
  }
}
