package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.analytic.SampleStats;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.guidance.DdimInversion;
import org.diffusion4j.io.Npy;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j invert}: DDIM inversion of an image to its latent, and the regeneration from it. */
@Command(name = "invert", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"DDIM inversion (Song et al. 2021, §4.3): run the PF-ODE's DDIM steps backwards from --image to "
        + "noise, write the latent (--latent, process coordinates at the grid's first point, what 'd4j sample --init' "
        + "of an exact model or --regenerate-class here start from), then regenerate with DDIM from it — with "
        + "--regenerate-class K under another class (translation, Su et al. 2023). --out is the regeneration; "
        + "FILE-compare.png shows input, latent/σ_max and regeneration. The round trip's RMS error is printed."},
    footer = {"", "Example:",
        "  d4j invert --model runs/mnist --image digit.png --class 3 --latent z.npy --out regenerated.png"})
public final class InvertCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ImageTaskOptions task;

  @Option(names = "--latent", paramLabel = "Z.npy", description = "Also write the latent [1, C, H, W] here.")
  Path latent;

  @Option(names = "--regenerate-class", paramLabel = "K",
      description = "Regenerate under this class instead of --class (needs a class-conditional run).")
  Integer regenerateClass;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (spec.commandLine().getParseResult().hasMatchedOption("--seeds")
        || spec.commandLine().getParseResult().hasMatchedOption("--sampler")) {
      throw new IllegalArgumentException("d4j invert is deterministic DDIM: --seeds and --sampler do not apply");
    }
    if (latent != null) {
      SampleCommand.kind(latent, "--latent", "npy");
    }
    task.seeds = "0";
    try (ImageTaskOptions.Task t = task.open()) {
      Conditioning c = t.conditioning();
      double[] z = DdimInversion.invert(t.model(), t.grid(), t.input(), t.shape(), c);
      Conditioning back = c;
      if (regenerateClass != null) {
        int k = t.config().classes();
        if (k == 0 || regenerateClass < 0 || regenerateClass >= k) {
          throw new IllegalArgumentException("--regenerate-class " + regenerateClass + ": the run has " + k + " classes"
              + (k == 0 ? " (it is unconditional)" : "; accepted 0.." + (k - 1)));
        }
        back = Conditioning.label(regenerateClass, 1);
      }
      Sampling.Result r = Sampling.of(t.model(), t.shape()).sampler(SamplerRegistry.create("ddim", java.util.Map.of()))
          .grid(t.grid()).seeds(0).dtype(ai.djl.ndarray.types.DataType.FLOAT32).conditioning(back).initial(z).run();
      double rms = SampleStats.rms(r.samples(), t.input());
      w.printf(Locale.ROOT, "DDIM inversion over %d steps (σ %s → %s), regeneration NFE %s%n", t.grid().steps(),
          Format.num(t.grid().sigma(t.grid().size() - 2)), Format.num(t.grid().sigma(0)), r.nfeText());
      w.printf(Locale.ROOT, "round trip RMS %s (stored units)%s%n", Format.sci(rms),
          regenerateClass != null ? " — regenerated under class " + regenerateClass : "");
      if (latent != null) {
        long[] full = {1, t.shape()[0], t.shape()[1], t.shape()[2]};
        Npy.write(latent, z, full, false);
        w.printf("wrote %s%n", latent);
      }
      double[] shown = z.clone();
      double scale = t.grid().s(0) * t.grid().sigma(0);
      for (int j = 0; j < shown.length; j++) {
        shown[j] /= scale;
      }
      task.write(t, r.samples(), 1, List.of(t.input(), shown, r.samples()),
          List.of("input", "latent / σ_max", "regenerated"), w);
    }
    return 0;
  }
}
