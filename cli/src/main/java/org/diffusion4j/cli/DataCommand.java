package org.diffusion4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.train.data.DataSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j data}: draws points from a data set with the same generator training uses. */
@Command(name = "data", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Draw N samples of a data set (the generator 'd4j train' uses, scaled as training sees them) "
        + "and write them as .npy, for plots and metrics.",
    footer = {"", "Examples:", "  d4j data --data two-moons --n 10000 --seed 1 --out moons.npy",
        "  d4j data --data mnist:../shared/data/mnist --n 64 --out digits.npy"})
public final class DataCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", paramLabel = "SPEC", required = true,
      description = "A data set as 'd4j train --data' spells it.")
  String data;

  @Option(names = "--n", paramLabel = "N", defaultValue = "10000", description = "Number of samples (default: ${DEFAULT-VALUE}).")
  int n;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", paramLabel = "FILE.npy", required = true, description = "Output .npy file.")
  Path out;

  @Override
  public Integer call() throws Exception {
    if (n < 1) {
      throw new IllegalArgumentException("--n must be >= 1, got " + n);
    }
    if (!out.toString().toLowerCase(java.util.Locale.ROOT).endsWith(".npy")) {
      throw new IllegalArgumentException("--out must end in .npy, got " + out);
    }
    NpyArray a = DataSources.drawPoints(data, n, seed);
    Npy.write(out, a.data(), a.shape(), true);
    spec.commandLine().getOut().printf("wrote %s: %s samples of %s, shape %s%n", out, n, data, a.shapeText());
    return 0;
  }
}
