package org.diffusion4j.cli;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.device.Devices;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.train.loop.TrainedModel;

/**
 * {@code --workers N}: the batches of a run spread over N workers, on the CPU N threads sharing the weights (core
 * groups), on GPUs one worker per device with its own copy of the weights. The output does not change.
 */
final class Workers implements AutoCloseable {
  private final List<TrainedModel> extra = new ArrayList<>();

  /** Checks {@code --workers} before any work. */
  static void check(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("--workers must be >= 1, got " + n);
    }
  }

  /** Loads per-GPU copies of a run when needed; a reshaper turns a run into the worker's denoiser. */
  interface Wrap {
    Denoiser of(TrainedModel run);
  }

  /**
   * Sets {@code run}'s workers: {@code n} threads on a CPU sharing {@code model}; on GPUs {@code model} on the first
   * and a copy of the run from {@code dir} on each further GPU ({@code steered}: the model carries steering that
   * cannot be rebuilt per device, which is refused).
   */
  void apply(Sampling run, int n, Denoiser model, Path dir, boolean ema, boolean steered, Wrap wrap) throws IOException {
    if (n == 1) {
      return;
    }
    Device here = Devices.current();
    if (!here.isGpu()) {
      run.workers(n);
      return;
    }
    if (dir == null || steered) {
      throw new IllegalArgumentException("--workers " + n + " on GPUs needs a plain trained run (no guidance, "
          + "inpainting, DPS or SDEdit): each GPU gets its own copy of the weights");
    }
    List<Device> devices = Devices.forWorkers("gpu", n);
    List<Sampling.Worker> team = new ArrayList<>();
    for (Device d : devices) {
      if (d.equals(here)) {
        team.add(new Sampling.Worker(model, d));
      } else {
        TrainedModel copy = TrainedModel.load(dir, ema, d);
        extra.add(copy);
        team.add(new Sampling.Worker(wrap.of(copy), d));
      }
    }
    if (team.stream().noneMatch(w -> w.device().equals(here))) {
      throw new IllegalArgumentException("--workers on GPUs uses gpu:0.." + (n - 1) + "; the model is on " + here
          + ": use --device gpu");
    }
    run.workers(team);
  }

  @Override
  public void close() {
    extra.forEach(TrainedModel::close);
    extra.clear();
  }
}
