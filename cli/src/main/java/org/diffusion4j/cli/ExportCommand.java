package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.train.nn.diffusers.DiffusersExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code d4j export --model RUN --format diffusers --out DIR}: a trained run as a diffusers model directory. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Write a run of 'd4j train --net diffusers-unet2d' as a diffusers model directory (model_index.json, "
        + "unet/config.json, unet/diffusion_pytorch_model.safetensors, scheduler/scheduler_config.json) that "
        + "DDPMPipeline.from_pretrained(DIR) loads. Exportable: ε-prediction (--objective eps or vp) on --process "
        + "ddpm; other processes, objectives and Diffusion4J's own networks are refused with the reason.",
    footer = {"", "Examples:",
        "  d4j train --data mnist:../shared/data/mnist --net diffusers-unet2d --steps 2000 --out runs/mnist-dm",
        "  d4j export --model runs/mnist-dm --format diffusers --out exported/mnist-dm",
        "  d4j sample --model exported/mnist-dm --sampler dpmpp-2m --steps 20 --out grid.png"})
public final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--model", paramLabel = "RUN", required = true, description = "The run directory of 'd4j train'.")
  Path model;

  @Option(names = "--format", paramLabel = "FORMAT", required = true, description = "diffusers (the only format).")
  String format;

  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "The model directory to write: new or empty.")
  Path out;

  @Option(names = "--raw", description = "Export the raw weights instead of the EMA weights (the default).")
  boolean raw;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (!format.toLowerCase(Locale.ROOT).equals("diffusers")) {
      throw new IllegalArgumentException("unknown --format '" + format + "'; accepted: diffusers");
    }
    if (!RunDirs.isRun(model)) {
      throw new IllegalArgumentException("--model " + model + " holds no run of 'd4j train' (no config.json of a run)");
    }
    if (Files.exists(out)) {
      if (!Files.isDirectory(out)) {
        throw new IllegalArgumentException("--out " + out + " is a file, not a directory");
      }
      try (var s = Files.list(out)) {
        if (s.findAny().isPresent()) {
          throw new IllegalArgumentException("--out " + out + " exists and is not empty; refusing to write into it "
              + "(choose a new or empty directory)");
        }
      }
    }
    for (String f : DiffusersExport.write(model, !raw, out)) {
      w.printf(Locale.ROOT, "wrote %s%n", out.resolve(f));
    }
    w.printf(Locale.ROOT, "%s weights of %s as a diffusers DDPMPipeline; in Python: "
        + "DDPMPipeline.from_pretrained(\"%s\")%n", raw ? "raw" : "EMA", model, out);
    return 0;
  }
}
