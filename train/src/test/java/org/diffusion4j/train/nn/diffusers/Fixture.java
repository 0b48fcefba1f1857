package org.diffusion4j.train.nn.diffusers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.junit.jupiter.api.Assumptions;

/** The diffusers v0.25 fixture {@code shared/fixtures/diffusers-unet2d-tiny} beside the checkout, found upwards. */
final class Fixture {
  static final Path DIR = locate();

  private Fixture() {}

  private static Path locate() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path c = p.resolve("shared").resolve("fixtures").resolve("diffusers-unet2d-tiny");
      if (Files.isDirectory(c)) {
        return c;
      }
    }
    return Path.of("../../shared/fixtures/diffusers-unet2d-tiny");
  }

  static Path dir() {
    Assumptions.assumeTrue(Files.isDirectory(DIR), "diffusers fixture not present at " + DIR);
    return DIR;
  }

  static NpyArray expected(String name) throws IOException {
    return Npy.read(dir().resolve("expected").resolve(name));
  }

  /** max |a − b| / max |b|. */
  static double relative(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths " + a.length + " and " + b.length);
    }
    double d = 0;
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      m = Math.max(m, Math.abs(b[i]));
    }
    return d / m;
  }
}
