package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.guidance.SdEdit;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j sdedit}: noise an image part-way and denoise it (SDEdit). */
@Command(name = "sdedit", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"SDEdit (Meng et al. 2022): noise --image to the grid point --strength picks (the fraction of the "
        + "grid's steps run) and denoise it with a trained run; with --class (and --guidance) the edit moves the "
        + "image toward that class. Writes the results and FILE-compare.png (input, noised start, results)."},
    footer = {"", "Example:",
        "  d4j sdedit --model runs/mnist --image sketch.png --strength 0.5 --class 3 --out edited.png"})
public final class SdeditCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ImageTaskOptions task;

  @Option(names = "--strength", paramLabel = "S", defaultValue = "0.5",
      description = "In (0, 1]: 0 keeps the input, 1 generates anew (default: ${DEFAULT-VALUE}).")
  double strength;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    try (ImageTaskOptions.Task t = task.open()) {
      Grid g = SdEdit.grid(t.grid(), strength);
      int n = t.seeds().length;
      int per = t.per();
      double[] inputs = new double[n * per];
      for (int i = 0; i < n; i++) {
        System.arraycopy(t.input(), 0, inputs, i * per, per);
      }
      double[] start = SdEdit.start(inputs, g, t.seeds());
      Sampler sampler = task.sampler("heun");
      Sampling.Result r = Sampling.of(t.model(), t.shape()).sampler(sampler).grid(g).seeds(t.seeds())
          .batch(Math.min(n, 16)).dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(t.conditioning())
          .initial(start).run();
      w.printf(Locale.ROOT, "SDEdit strength %s: %s from σ %s, %d steps, %d seeds, NFE %s, %.1f s%n",
          Format.num(strength), sampler.id(), Format.num(g.sigma(0)), g.steps(), n, r.nfeText(), r.nanos() / 1e9);
      // The noised start shown in data scale x̂ = x/s, clipped by the picture.
      double[] shown = ImageTaskOptions.sample(start, 0, per);
      for (int j = 0; j < per; j++) {
        shown[j] /= g.s(0);
      }
      List<double[]> panels = new ArrayList<>(List.of(t.input(), shown));
      List<String> labels = new ArrayList<>(List.of("input", "noised σ " + Format.num(g.sigma(0))));
      for (int k = 0; k < n; k++) {
        panels.add(ImageTaskOptions.sample(r.samples(), k, per));
        labels.add("seed " + t.seeds()[k]);
      }
      task.write(t, r.samples(), n, panels, labels, w);
    }
    return 0;
  }
}
