package org.diffusion4j.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.likelihood.DenoiserTrace;
import org.diffusion4j.likelihood.Divergence;
import org.diffusion4j.likelihood.HostDenoiser;
import org.diffusion4j.likelihood.MixtureTrace;
import org.diffusion4j.likelihood.TraceModel;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * The model of {@code d4j nll} and {@code d4j eval}: an exact Gaussian mixture (a JSON file), a trained
 * run (a directory) or a diffusers UNet2DModel directory (measured on the --data given), with what measuring needs: its shape, process, a denoiser differentiable in x̂ and
 * the data it was trained on. A class-conditional run is measured unconditionally (its null label ∅).
 */
final class EvalModel implements AutoCloseable {
  final GaussianMixture mixture;
  final TrainedModel run;
  /** A diffusers UNet2DModel directory, or null. */
  final org.diffusion4j.train.nn.diffusers.DiffusersModel diffusers;
  final long[] shape;
  final int dim;
  final NoiseProcess process;
  final NDManager manager;
  /** The denoiser, differentiable in x̂ (networks in FLOAT32, the mixture in FLOAT64). */
  final Denoiser denoiser;
  final DataType dtype;

  private EvalModel(GaussianMixture mixture, TrainedModel run, NoiseProcess process) {
    this(mixture, run, null, process);
  }

  private EvalModel(org.diffusion4j.train.nn.diffusers.DiffusersModel dm) {
    this(null, null, dm, dm.process());
  }

  private EvalModel(GaussianMixture mixture, TrainedModel run, org.diffusion4j.train.nn.diffusers.DiffusersModel dm,
      NoiseProcess process) {
    this.mixture = mixture;
    this.run = run;
    this.diffusers = dm;
    this.manager = org.diffusion4j.device.Devices.newManager();
    if (dm != null) {
      shape = dm.sampleShape();
      this.process = process;
      for (var p : dm.unet().getParameters()) {
        p.getValue().getArray().setRequiresGradient(false);
      }
      var cfg = dm.config();
      Denoiser net = dm.denoiser();
      denoiser = !cfg.classConditional() ? net : (x, sigma, c) -> net.denoise(x, sigma, c.isEmpty()
          ? Conditioning.label(Conditioning.NULL_LABEL, Math.toIntExact(x.getShape().get(0))) : c);
      dtype = DataType.FLOAT32;
    } else if (mixture != null) {
      shape = new long[] {mixture.dim()};
      this.process = process;
      denoiser = MixtureTrace.differentiableDenoiser(mixture);
      dtype = DataType.FLOAT64;
    } else {
      shape = run.config().sampleShape();
      this.process = run.config().process();
      // Only input gradients are needed: frozen weights make each backward pass cheaper and keep nothing.
      for (var p : run.network().getParameters()) {
        p.getValue().getArray().setRequiresGradient(false);
      }
      denoiser = samplingDenoiser(run);
      dtype = DataType.FLOAT32;
    }
    dim = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
  }

  /**
   * Refuses a few-step run whose D(x̂; σ) is not the PF-ODE's denoiser: a one-time consistency run (ct, cd,
   * kd, sct, scd, dmd) always, a two-time one (ctm, mf) too when {@code twoTime}: what {@code command}
   * integrates would not be the model's own distribution.
   */
  void requireDenoiser(String command, boolean twoTime) {
    if (run == null) {
      return;
    }
    String objective = run.config().objective();
    if (org.diffusion4j.train.distill.FlowMapRuns.oneTime(objective)
        || twoTime && org.diffusion4j.train.distill.FlowMapRuns.twoTime(objective)) {
      throw new IllegalArgumentException(command + ": the run (objective " + objective + ") is a few-step flow-map "
          + "model, which samples by jumps along the ODE rather than defining one: its D(x̂; σ) is not a denoiser of "
          + "its own distribution, so " + command + " would measure something else; measure its samples with d4j "
          + "eval --model RUN --steps 1,2,4");
    }
  }

  /** A run's denoiser as measured: a class-conditional run with its null label ∅ when given no labels. */
  static Denoiser samplingDenoiser(TrainedModel run) {
    Denoiser net = run.denoiser();
    boolean conditional = run.config().classes() > 0;
    return !conditional ? net : (x, sigma, c) -> net.denoise(x, sigma, c.isEmpty()
        ? Conditioning.label(Conditioning.NULL_LABEL, Math.toIntExact(x.getShape().get(0))) : c);
  }

  /**
   * @param model a mixture JSON file or a run directory
   * @param processId the process of a mixture (a run has its own; null = edm)
   * @param weights ema or raw (runs)
   */
  static EvalModel open(Path model, String processId, String weights) throws IOException {
    if (Files.isDirectory(model) && org.diffusion4j.train.nn.diffusers.DiffusersModel.isModelDir(model)) {
      if (processId != null) {
        throw new IllegalArgumentException("--process is for mixture models; a diffusers model uses its scheduler's");
      }
      if (!weights.equalsIgnoreCase("ema")) {
        throw new IllegalArgumentException("--weights applies to runs; a diffusers model has one set of weights");
      }
      var dm = org.diffusion4j.train.nn.diffusers.DiffusersModel.load(model);
      try {
        var cfg = dm.config();
        if (cfg.classConditional() && cfg.nullClassLabel() < 0) {
          throw new IllegalArgumentException("the diffusers model is class-conditional with no null label: it has no "
              + "unconditional density to measure");
        }
        if (dm.scheduler().clipSample()) {
          throw new IllegalArgumentException("the diffusers model's scheduler clips the x0-estimate (clip_sample), "
              + "which has no gradient to integrate");
        }
        return new EvalModel(dm);
      } catch (RuntimeException e) {
        dm.close();
        throw e;
      }
    }
    if (Files.isDirectory(model)) {
      if (processId != null) {
        throw new IllegalArgumentException("--process is for mixture models; a run uses the process it was trained on");
      }
      boolean ema = switch (weights.toLowerCase(Locale.ROOT)) {
        case "ema" -> true;
        case "raw" -> false;
        default -> throw new IllegalArgumentException("unknown --weights '" + weights + "'; accepted: ema, raw");
      };
      return new EvalModel(null, TrainedModel.load(model, ema), null);
    }
    GaussianMixture gm = SampleCommand.readModel(model);
    return new EvalModel(gm, null, Processes.byId(processId == null ? "edm" : processId));
  }

  /** Whether samples are 8-bit images ([C, H, W] on [−1, 1]). */
  boolean images() {
    return shape.length == 3;
  }

  /** The data spec a run was trained on, or null for a mixture. */
  String defaultData() {
    if (diffusers != null) {
      throw new IllegalArgumentException("a diffusers model does not say what it was trained on: give --data");
    }
    return run == null ? null : run.config().data();
  }

  /** The trace model: the closed form for a mixture's exact divergence, autograd otherwise. */
  TraceModel trace(Divergence method, int batch) {
    if (mixture != null && method instanceof Divergence.Exact) {
      return new MixtureTrace(mixture);
    }
    return new DenoiserTrace(denoiser, shape, method, manager, dtype, Math.max(batch, images() ? 64 : 4096));
  }

  /** The denoiser on host doubles. */
  HostDenoiser host() {
    return mixture != null ? HostDenoiser.of(mixture) : HostDenoiser.of(denoiser, shape, manager, dtype);
  }

  /** The model's description for the output. */
  String describe(Path model) {
    if (diffusers != null) {
      return "diffusers model " + model + " (ddpm, " + diffusers.scheduler().prediction().id() + ", shape "
          + Arrays.toString(shape) + ")";
    }
    return mixture != null ? "gaussian-mixture " + model + " (" + mixture.components() + " components, " + dim
        + "-D), process " + process.id() : "run " + model + " (" + process.id() + ", shape " + Arrays.toString(shape)
        + ", step " + run.step() + ")";
  }

  @Override
  public void close() {
    manager.close();
    if (run != null) {
      run.close();
    }
    if (diffusers != null) {
      diffusers.close();
    }
  }
}
