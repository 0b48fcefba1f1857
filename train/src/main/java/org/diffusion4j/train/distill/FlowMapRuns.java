package org.diffusion4j.train.distill;

import ai.djl.nn.Block;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.flowmap.FlowMapSampler;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.Trainer;

/**
 * How runs of flow-map models are trained and sampled: which objectives are flow maps (consistency
 * training {@code ct}, consistency distillation {@code cd}), their trainer, their own sampler and grid.
 */
public final class FlowMapRuns {
  private FlowMapRuns() {}

  /** Whether runs of {@code objective} are flow-map models sampled with their own few-step sampler. */
  public static boolean isFlowMap(String objective) {
    return objective.equals("ct") || objective.equals("cd") || objective.equals("mf");
  }

  /** The largest noise level of the run's process (the consistency models' σ_max). */
  public static double sigmaMax(NoiseProcess process) {
    return GridSpec.karras().build(process, 1).sigma(0);
  }

  /** The trainer of a flow-map run from scratch ({@code ct}); {@code cd} needs a teacher ({@link Distillation}). */
  public static Trainer fromScratch(RunConfig c, Block network, Trainer.Batches batches, Path runDir,
      Trainer.Listener listener) {
    if (c.objective().equals("mf")) {
      if (!(network instanceof org.diffusion4j.train.nn.TwoTimeMlp)) {
        throw new IllegalArgumentException("objective mf needs a two-time network; only the MLP has one (--net mlp), got "
            + c.network().type());
      }
      return new Trainer(Map.of(Trainer.MODEL, new org.diffusion4j.train.nn.NetworkDenoiser(network,
          c.objectiveValue().preconditioning())), Map.of(), Map.of(), new MeanFlowLoss(Trainer.MODEL, 0.25), batches,
          c.training().options(), runDir, c.toJson(), listener);
    }
    if (!c.objective().equals("ct")) {
      throw new IllegalArgumentException("objective '" + c.objective() + "' distils a teacher: use Distillation "
          + "(d4j distill --teacher RUN --method cd); from scratch, use objective ct");
    }
    ConsistencyLoss loss = ConsistencyLoss.training(Trainer.MODEL, c.training().steps(),
        org.diffusion4j.denoiser.Preconditioning.Consistency.DEFAULT_SIGMA_MIN, sigmaMax(c.process()));
    return new Trainer(Map.of(Trainer.MODEL, new org.diffusion4j.train.nn.NetworkDenoiser(network,
        c.objectiveValue().preconditioning())), Map.of(), Map.of(), loss, batches, c.training().options(), runDir,
        c.toJson(), listener);
  }

  /**
   * The run's own sampler: multistep consistency sampling (γ = 1) for consistency models, deterministic
   * flow-map steps (γ = 0) for Mean Flows.
   */
  public static Sampler sampler(RunConfig c) {
    return c.objective().equals("mf") ? new FlowMapSampler(0) : FlowMapSampler.consistency();
  }

  /** The run's model in the flow-map convention (a Mean Flow network sees the target level). */
  public static org.diffusion4j.denoiser.Denoiser model(org.diffusion4j.train.loop.TrainedModel tm) {
    return tm.config().objective().equals("mf") ? new MeanFlowModel(tm.network()) : tm.denoiser();
  }

  /** The run's few-step grid: uniform in t for Mean Flows (Geng et al. 2025), else {@link #grid}. */
  public static Grid grid(RunConfig c, NoiseProcess process, int steps) {
    if (!c.objective().equals("mf")) {
      return grid(process, steps);
    }
    if (steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    double[] t = new double[steps + 1];
    for (int i = 0; i <= steps; i++) {
      t[i] = process.tMax() + (process.tData() - process.tMax()) * i / steps;
    }
    return Grid.ofTimes(process, t);
  }

  /**
   * The few-step grid: {@code steps + 1} points of the Karras ρ = 7 spacing from σ_max down to σ_min,
   * the last replaced by 0 (so 1 step is σ_max → 0 and no step is spent between σ_min and 0).
   */
  public static Grid grid(NoiseProcess process, int steps) {
    if (steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    double lo = org.diffusion4j.denoiser.Preconditioning.Consistency.DEFAULT_SIGMA_MIN;
    double hi = sigmaMax(process);
    double[] s = new double[steps + 1];
    double a = Math.pow(hi, 1 / 7.0);
    double b = Math.pow(lo, 1 / 7.0);
    for (int i = 0; i < steps; i++) {
      s[i] = Math.pow(a + i / (double) steps * (b - a), 7);
    }
    s[0] = hi;
    s[steps] = 0;
    return Grid.ofSigmas(process, s);
  }
}
