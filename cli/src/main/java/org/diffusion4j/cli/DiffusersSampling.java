package org.diffusion4j.cli;

import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.nn.diffusers.DiffusersDenoiser;
import org.diffusion4j.train.nn.diffusers.DiffusersModel;
import org.diffusion4j.train.nn.diffusers.TimestepMapping;

/** {@code d4j sample --model DIR} for a diffusers UNet2DModel directory: any sampler on its own DDPM schedule. */
final class DiffusersSampling {
  private final SampleCommand c;

  DiffusersSampling(SampleCommand c) {
    this.c = c;
  }

  int call(PrintWriter w) throws IOException {
    String kind = c.modelOutputKind();
    var parsed = c.spec.commandLine().getParseResult();
    for (String o : new String[] {"--weights", "--process", "--train-steps", "--betas", "--beta-start", "--beta-end"}) {
      if (parsed.hasMatchedOption(o)) {
        throw new IllegalArgumentException(o + " has no effect on a diffusers model: its weights and process are "
            + "its own (unet/ and the scheduler config)");
      }
    }
    if (c.noiseFile != null && c.initFile != null) {
      throw new IllegalArgumentException("give --noise or --init, not both");
    }
    DataType type = SampleCommand.parseDtype(c.dtype);
    // Fractional linspace timesteps (diffusers' Euler) are what the network is told: σ ↔ t linear.
    TimestepMapping mapping = TimestepMapping.parse(c.timestepMapping != null ? c.timestepMapping
        : c.grid.fractional() ? "linear" : "continuous");
    // --scheduler-config (default: the model directory's) sets the model's timesteps and, when given, the sampler and grid.
    org.diffusion4j.schedule.DiffusersScheduler configured = c.grid.scheduler();
    Sampler sampler = configured != null ? configured.sampler()
        : SamplerRegistry.get(c.sampler == null ? "auto" : c.sampler).create(SamplerParams.parseAssignments(c.params));
    try (DiffusersModel dm = DiffusersModel.load(c.model, c.grid.schedulerConfig)) {
      long[] shape = dm.sampleShape();
      int d = (int) (shape[0] * shape[1] * shape[2]);
      int classes = dm.config().numClassEmbeds();
      if (c.allClasses) {
        throw new IllegalArgumentException("--class all applies to class-conditional runs of d4j train; give one class "
            + "for a diffusers model");
      }
      if (c.classLabel != null && (!dm.config().classConditional() || c.classLabel < 0
          || (classes > 0 && c.classLabel >= classes))) {
        throw new IllegalArgumentException("--class " + c.classLabel + ": the model "
            + (dm.config().classConditional() ? "has classes 0.." + (classes - 1) : "is unconditional"));
      }
      if (c.classLabel == null && dm.config().classConditional() && dm.config().nullClassLabel() < 0) {
        throw new IllegalArgumentException("the model is class-conditional: give --class K");
      }
      double[] given = c.noiseFile != null ? states(c.noiseFile, "--noise", d)
          : c.initFile != null ? states(c.initFile, "--init", d) : null;
      Grid grid = c.grid.buildGrid(dm.process());
      long[] seeds = c.seeds(given == null ? -1 : given.length / d);
      int b = c.batch == null ? Math.min(seeds.length, 64) : c.batch;
      if (b < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + b);
      }
      DiffusersDenoiser den = dm.denoiser(mapping);
      Sampling run = Sampling.of(configured != null ? configured.denoiser(den) : den, shape).sampler(sampler).grid(grid).seeds(seeds).batch(b).dtype(type)
          .trajectory(c.trajectoryFile != null);
      Workers.check(c.workers);
      try (Workers team = new Workers()) {
        team.apply(run, c.workers, den, null, true, false, null);
      }
      if (c.initFile != null) {
        run.initial(given);
      } else if (c.noiseFile != null) {
        run.noise(given);
      }
      if (c.classLabel != null) {
        run.conditioning(Conditioning.label(c.classLabel, seeds.length));
      }
      Sampling.Result r = run.run();
      double[] x = r.samples();
      w.printf(Locale.ROOT, "%s on diffusers model %s (%s, %s timesteps), %s, %d samples of %s, batch %d%n",
          sampler.id(), c.model, dm.scheduler().prediction().id(), mapping.id(),
          ProcessGridOptions.describe(grid, c.grid.gridOptions().grid()), seeds.length, Arrays.toString(shape), b);
      w.printf(Locale.ROOT, "NFE       %s%s%n", r.nfeText(), Format.depth(r));
      w.printf(Locale.ROOT, "time      %.3f s%n", r.nanos() / 1e9);
      switch (kind) {
        case "npy":
          Npy.write(c.out, x, new long[] {seeds.length, shape[0], shape[1], shape[2]}, type == DataType.FLOAT32);
          break;
        case "png":
          AtomicFiles.write(c.out, ModelPreview.png(ModelPreview.picture(String.format(Locale.ROOT,
              "%s · %d steps · NFE %s", sampler.id(), grid.steps(), r.nfeText()), shape, x, null)));
          break;
        default: {
          Files.createDirectories(c.out);
          int h = (int) shape[1];
          for (int k = 0; k < seeds.length; k++) {
            AtomicFiles.write(c.out.resolve(String.format(Locale.ROOT, "seed-%06d.png", seeds[k])),
                ModelPreview.png(org.diffusion4j.cli.plot.ImageGrid.image(x, k, (int) shape[0], h, (int) shape[2],
                    h <= 32 ? 4 : 1)));
          }
        }
      }
      if (c.trajectoryFile != null) {
        Npy.write(c.trajectoryFile, r.trajectory(), new long[] {grid.size(), seeds.length, shape[0], shape[1],
            shape[2]}, type == DataType.FLOAT32);
      }
      w.printf("wrote %s%n", c.out);
      return 0;
    }
  }

  /** States of d values each, from a .npy of shape [n, C, H, W] or [n, d]. */
  private static double[] states(Path file, String option, int d) throws IOException {
    NpyArray a;
    try {
      a = Npy.read(file);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + " " + e.getMessage());
    }
    long[] sh = a.shape();
    long per = 1;
    for (int i = 1; i < sh.length; i++) {
      per *= sh[i];
    }
    if (sh.length < 2 || per != d || sh[0] < 1) {
      throw new IllegalArgumentException(option + " " + file + " has shape " + a.shapeText() + "; expected [n, …] "
          + "with " + d + " values per sample");
    }
    for (int i = 0; i < a.data().length; i++) {
      if (!Double.isFinite(a.data()[i])) {
        throw new IllegalArgumentException(option + " " + file + " holds a non-finite value at flat index " + i);
      }
    }
    return a.data();
  }
}
