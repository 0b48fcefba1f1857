package org.diffusion4j.cli;

import org.diffusion4j.train.distill.FlowMapRuns;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.sampling.Sampling;

/** {@code d4j sample --model RUN}: any sampler on a trained network. */
final class RunSampling {
  private final SampleCommand c;

  RunSampling(SampleCommand c) {
    this.c = c;
  }

  int call(PrintWriter w) throws IOException {
    // Check the inputs before any work.
    String kind = c.modelOutputKind();
    DataType type = SampleCommand.parseDtype(c.dtype);
    boolean ema = switch (c.weights.toLowerCase(Locale.ROOT)) {
      case "ema" -> true;
      case "raw" -> false;
      default -> throw new IllegalArgumentException("unknown --weights '" + c.weights + "'; accepted: ema, raw");
    };
    if (c.noiseFile != null || c.initFile != null) {
      throw new IllegalArgumentException("--noise/--init are for exact models; a run draws its noise from --seeds");
    }
    try (TrainedModel tm = TrainedModel.load(c.model, ema)) {
      RunConfig rc = tm.config();
      if (org.diffusion4j.train.transport.FlowSpec.handles(rc.objective())) {
        org.diffusion4j.train.transport.FlowSpec flow = org.diffusion4j.train.transport.Reflow.specOf(c.model);
        if (!(flow.gaussianSource() && flow.conditionalPath().isRectified())) {
          throw new IllegalArgumentException("run " + c.model + " transports " + flow.source() + " along a "
              + "non-rectified path; the frame's samplers start from N(0, I) on the rectified path, so they would "
              + "sample it wrongly. Integrate it in t instead: d4j reflow / d4j transport, or FlowOde from Java");
        }
      }
      boolean flowMap = FlowMapRuns.isFlowMap(rc.objective());
      if (c.sampler == null && !flowMap) {
        throw new IllegalArgumentException("--sampler is required for run " + c.model + " (objective "
            + rc.objective() + "); only few-step runs (ct, cd, kd, mf) have a sampler of their own");
      }
      String samplerId = c.sampler == null ? "flowmap" : c.sampler;
      Sampler sampler = c.sampler == null ? FlowMapRuns.sampler(rc)
          : SamplerRegistry.get(c.sampler).create(SamplerParams.parseAssignments(c.params));
      long[] shape = rc.sampleShape();
      boolean images = shape.length == 3;
      boolean twoD = shape.length == 1 && shape[0] == 2;
      if (kind.equals("dir") && !images) {
        throw new IllegalArgumentException("--out " + c.out + ": a directory of PNGs needs an image model; use .npy or .png");
      }
      if (kind.equals("png") && !images && !twoD) {
        throw new IllegalArgumentException("--out " + c.out + ": a PNG needs a 2-D or image model, this one has shape "
            + java.util.Arrays.toString(shape) + "; use .npy");
      }
      boolean processGiven = c.spec.commandLine().getParseResult().hasMatchedOption("--process");
      NoiseProcess process = processGiven ? c.grid.process() : rc.process();
      // A few-step model on its own sampler: --steps N levels from σ_max to 0 (no step spent below σ_min).
      Grid grid = c.sampler == null ? FlowMapRuns.grid(rc, process, c.grid.steps) : c.grid.buildGrid(process);
      long[] seeds = c.seeds(-1);
      int b = c.batch == null ? Math.min(seeds.length, images ? 64 : 4096) : c.batch;
      if (b < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + b);
      }
      java.util.List<Integer> runs = new java.util.ArrayList<>();
      if (c.allClasses) {
        if (rc.classes() == 0 && c.steering.classifier == null) {
          throw new IllegalArgumentException("--class all needs a class-conditional run (or --classifier); run "
              + c.model + " is unconditional");
        }
        int k = rc.classes() > 0 ? rc.classes()
            : org.diffusion4j.train.guidance.ClassifierRun.classesOf(c.steering.classifier);
        for (int j = 0; j < k; j++) {
          runs.add(j);
        }
      } else {
        runs.add(c.classLabel);
      }
      boolean strength = c.spec.commandLine().getParseResult().hasMatchedOption("--strength");
      double[] stored = null;
      double[] trajectory = null;
      Sampling.Result r = null;
      SteeringOptions.Plan steer = null;
      Grid fullGrid = grid;
      for (Integer label : runs) {
        steer = c.steering.plan(flowMap ? FlowMapRuns.model(tm) : tm.denoiser(), rc.classes(), rc.scaling(), shape,
            seeds, label, fullGrid, strength);
        grid = steer.grid();
        Sampling run = Sampling.of(steer.model(), shape).sampler(sampler).grid(grid).seeds(seeds).batch(b).dtype(type)
            .trajectory(c.trajectoryFile != null).conditioning(steer.conditioning());
        if (steer.initial() != null) {
          run.initial(steer.initial());
        }
        try {
          r = run.run();
        } finally {
          c.steering.close();
        }
        stored = stored == null ? r.samples() : concat(stored, r.samples());
        if (c.trajectoryFile != null) {
          trajectory = trajectory == null ? r.trajectory() : concat(trajectory, r.trajectory());
        }
      }
      int count = seeds.length * runs.size();
      w.printf(Locale.ROOT, "%s on run %s (step %d, %s weights), process %s, %d samples of %s, batch %d%n",
          samplerId, c.model, tm.step(), ema ? "EMA" : "raw", process.id(), count,
          java.util.Arrays.toString(shape), b);
      for (String note : steer.notes()) {
        w.printf(Locale.ROOT, "steering  %s%n", note);
      }
      w.printf(Locale.ROOT, "NFE       %s%n", r.nfeText());
      w.printf(Locale.ROOT, "time      %.3f s%n", r.nanos() / 1e9);
      switch (kind) {
        case "npy": {
          double[] raw = stored.clone();
          for (int i = 0; i < raw.length; i++) {
            raw[i] = rc.scaling().invert(raw[i]);
          }
          long[] full = new long[shape.length + 1];
          full[0] = count;
          System.arraycopy(shape, 0, full, 1, shape.length);
          Npy.write(c.out, raw, full, type == DataType.FLOAT32);
          break;
        }
        case "png": {
          double[] ref = twoD ? reference(rc) : null;
          String title = String.format(Locale.ROOT, "%s · %d steps · NFE %s", samplerId, grid.steps(), r.nfeText());
          AtomicFiles.write(c.out, ModelPreview.png(c.allClasses && images
              ? org.diffusion4j.cli.plot.ImageGrid.grid(stored, count, (int) shape[0], (int) shape[1], (int) shape[2],
                  shape[1] <= 32 ? 2 : 1, seeds.length)
              : ModelPreview.picture(title, shape, stored, ref)));
          break;
        }
        default: {
          Files.createDirectories(c.out);
          int h = (int) shape[1];
          for (int k = 0; k < count; k++) {
            String name = c.allClasses
                ? String.format(Locale.ROOT, "class-%d-seed-%06d.png", k / seeds.length, seeds[k % seeds.length])
                : String.format(Locale.ROOT, "seed-%06d.png", seeds[k]);
            AtomicFiles.write(c.out.resolve(name),
                ModelPreview.png(org.diffusion4j.cli.plot.ImageGrid.image(stored, k, (int) shape[0], h, (int) shape[2],
                    h <= 32 ? 4 : 1)));
          }
        }
      }
      if (c.trajectoryFile != null) {
        long[] full = new long[shape.length + 2];
        full[0] = grid.size();
        full[1] = count;
        System.arraycopy(shape, 0, full, 2, shape.length);
        if (runs.size() > 1) {
          // One run per class: regroup [class][step][seed] as [step][class·seed].
          int perStep = trajectory.length / (runs.size() * grid.size());
          double[] t = new double[trajectory.length];
          for (int k = 0; k < runs.size(); k++) {
            for (int st = 0; st < grid.size(); st++) {
              System.arraycopy(trajectory, (k * grid.size() + st) * perStep, t, (st * runs.size() + k) * perStep, perStep);
            }
          }
          trajectory = t;
        }
        Npy.write(c.trajectoryFile, trajectory, full, type == DataType.FLOAT32);
      }
      w.printf("wrote %s%n", c.out);
      return 0;
    }
  }

  private static double[] concat(double[] a, double[] b) {
    double[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** Training-data points to draw under a 2-D scatter (generated toys and small files only). */
  private static double[] reference(RunConfig rc) {
    try {
      DataSource s = DataSources.parse(rc.data());
      float[] f = s.sample(1000, new SplittableRandom(777)).x();
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
