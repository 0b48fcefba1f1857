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
 * training {@code ct} and distillation {@code cd}, continuous-time {@code sct}/{@code scd}, consistency
 * trajectory models {@code ctm}, Mean Flows {@code mf}, distribution-matching generators {@code dmd}),
 * their trainer, their own sampler and grid.
 */
public final class FlowMapRuns {
  private FlowMapRuns() {}

  /** Whether runs of {@code objective} are flow-map models sampled with their own few-step sampler. */
  public static boolean isFlowMap(String objective) {
    return oneTime(objective) || twoTime(objective);
  }

  /**
   * Whether the objective's model is a one-time consistency function D(x̂; σ) = Ψ(x̂, σ → 0): ct, cd, sct,
   * scd, dmd. Such a model is not a denoiser, so an ODE sampler run on it takes wrong steps.
   */
  public static boolean oneTime(String objective) {
    return switch (objective) {
      case "ct", "cd", "sct", "scd", "dmd" -> true;
      default -> false;
    };
  }

  /** Whether the objective's network has two times (ctm, mf): G(x̂, σ, σ′). */
  public static boolean twoTime(String objective) {
    return objective.equals("ctm") || objective.equals("mf");
  }

  /** The adaptive-weight network's name in sCM runs. */
  public static final String WEIGHT = "weight";

  /** The fake-score network's name in DMD runs. */
  public static final String FAKE = "fake";

  /** A fresh sCM adaptive weight w_φ (64 features) in {@code m}. */
  public static org.diffusion4j.train.nn.NetworkDenoiser adaptiveWeight(ai.djl.ndarray.NDManager m,
      org.diffusion4j.denoiser.Preconditioning p) {
    org.diffusion4j.train.nn.AdaptiveWeight w = new org.diffusion4j.train.nn.AdaptiveWeight(64);
    w.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32, new ai.djl.ndarray.types.Shape(1));
    return new org.diffusion4j.train.nn.NetworkDenoiser(w, p);
  }

  /** The tangent warm-up H of an sCM run of {@code steps} steps: a tenth of the run, at most 10 000 (the paper's H). */
  public static long warmup(long steps) {
    return Math.min(10_000, Math.max(1, steps / 10));
  }

  /** The largest noise level of the run's process (the consistency models' σ_max). */
  public static double sigmaMax(NoiseProcess process) {
    return GridSpec.karras().build(process, 1).sigma(0);
  }

  /** The trainer of a flow-map run from scratch ({@code ct}); {@code cd} needs a teacher ({@link Distillation}). */
  public static Trainer fromScratch(RunConfig c, Block network, Trainer.Batches batches, Path runDir,
      Trainer.Listener listener) {
    return fromScratch(c, FlowMapSettings.DEFAULT, network, batches, runDir, listener);
  }

  /**
   * The trainer of a flow-map run from scratch (ct, sct, mf) with the Mean Flow and sCT knobs of
   * {@code settings} (stored in the run's config under {@code "flow_map"}; ct has none).
   */
  public static Trainer fromScratch(RunConfig c, FlowMapSettings settings, Block network, Trainer.Batches batches,
      Path runDir, Trainer.Listener listener) {
    if (c.objective().equals("mf")) {
      if (!(network instanceof org.diffusion4j.train.nn.TwoTimeNetwork)) {
        throw new IllegalArgumentException("objective mf needs a two-time network (TwoTimeMlp, TwoTimeUNet), got "
            + network.getClass().getSimpleName());
      }
      return new Trainer(Map.of(Trainer.MODEL, new org.diffusion4j.train.nn.NetworkDenoiser(network,
          c.objectiveValue().preconditioning())), Map.of(), Map.of(), settings.meanFlowLoss(Trainer.MODEL), batches,
          c.training().options(), runDir, settings.embedInto(c.toJson()), listener);
    }
    if (c.objective().equals("sct")) {
      ai.djl.ndarray.NDManager m = network.getParameters().get(0).getValue().getArray().getManager();
      Map<String, org.diffusion4j.train.nn.NetworkDenoiser> nets = new java.util.LinkedHashMap<>();
      org.diffusion4j.denoiser.Preconditioning p = c.objectiveValue().preconditioning();
      nets.put(Trainer.MODEL, new org.diffusion4j.train.nn.NetworkDenoiser(network, p));
      nets.put(WEIGHT, adaptiveWeight(m, p));
      ContinuousConsistencyLoss loss = ContinuousConsistencyLoss.training(Trainer.MODEL, WEIGHT, c.sigmaData(),
          warmup(c.training().steps()), ContinuousConsistencyLoss.Tangent.NORMALISE, settings.scmPMean(),
          settings.scmPStd(), sigmaMax(c.process()));
      return new Trainer(nets, Map.of(), Map.of(), loss, batches, c.training().options(), runDir,
          settings.embedInto(c.toJson()), listener);
    }
    if (!c.objective().equals("ct")) {
      throw new IllegalArgumentException("objective '" + c.objective() + "' distils a teacher: use Distillation "
          + "(d4j distill --teacher RUN --method " + c.objective() + "); from scratch, use objective ct, sct or mf");
    }
    ConsistencyLoss loss = ConsistencyLoss.training(Trainer.MODEL, c.training().steps(),
        org.diffusion4j.denoiser.Preconditioning.Consistency.DEFAULT_SIGMA_MIN, sigmaMax(c.process()));
    return new Trainer(Map.of(Trainer.MODEL, new org.diffusion4j.train.nn.NetworkDenoiser(network,
        c.objectiveValue().preconditioning())), Map.of(), Map.of(), loss, batches, c.training().options(), runDir,
        c.toJson(), listener);
  }

  /**
   * The run's own sampler: multistep consistency sampling (γ = 1) for one-time models, deterministic
   * flow-map steps (γ = 0) for the two-time ones (CTM, Mean Flows).
   */
  public static Sampler sampler(RunConfig c) {
    return twoTime(c.objective()) ? new FlowMapSampler(0) : FlowMapSampler.consistency();
  }

  /** The run's model in the flow-map convention (a Mean Flow network sees the target level). */
  public static org.diffusion4j.denoiser.Denoiser model(org.diffusion4j.train.loop.TrainedModel tm) {
    return tm.config().objective().equals("mf") ? new MeanFlowModel(tm.network()) : tm.denoiser();
  }

  /**
   * The TrigFlow time of the intermediate level in two-step sCM sampling, t_mid = 1.1 (Lu &amp; Song 2024, their
   * two-step sampler; σ = σ_d·tan t, so σ_mid = 0.98 at σ_d = 0.5). A per-data-set choice: {@code --mid} overrides it.
   */
  public static final double SCM_MID_TIME = 1.1;

  /** The run's few-step grid with its default intermediate levels ({@link #grid(RunConfig, NoiseProcess, int, double[])}). */
  public static Grid grid(RunConfig c, NoiseProcess process, int steps) {
    return grid(c, process, steps, null);
  }

  /**
   * The run's few-step grid of {@code steps} jumps from σ_max to 0. {@code mids} (may be null) are the
   * {@code steps − 1} intermediate noise levels, strictly decreasing inside (0, σ_max); without them: uniform
   * in t for Mean Flows (Geng et al. 2025), σ_d·tan(1.1) for two-step sCM runs (sct, scd; {@link #SCM_MID_TIME}),
   * else the Karras spacing of {@link #grid(NoiseProcess, int)}.
   */
  public static Grid grid(RunConfig c, NoiseProcess process, int steps, double[] mids) {
    if (steps < 1) {
      throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
    }
    if (mids != null) {
      return withMids(process, steps, mids);
    }
    if (c.objective().equals("mf")) {
      double[] t = new double[steps + 1];
      for (int i = 0; i <= steps; i++) {
        t[i] = process.tMax() + (process.tData() - process.tMax()) * i / steps;
      }
      return Grid.ofTimes(process, t);
    }
    if (steps == 2 && (c.objective().equals("sct") || c.objective().equals("scd"))) {
      return withMids(process, 2, new double[] {c.sigmaData() * Math.tan(SCM_MID_TIME)});
    }
    return grid(process, steps);
  }

  /** [σ_max, mids…, 0], the mids checked: {@code steps − 1} of them, strictly decreasing, inside (0, σ_max). */
  private static Grid withMids(NoiseProcess process, int steps, double[] mids) {
    double hi = sigmaMax(process);
    if (mids.length != steps - 1) {
      throw new IllegalArgumentException("--mid needs steps - 1 = " + (steps - 1) + " intermediate level(s) for "
          + steps + " step(s), got " + mids.length + " " + java.util.Arrays.toString(mids));
    }
    double[] s = new double[steps + 1];
    s[0] = hi;
    for (int i = 0; i < mids.length; i++) {
      double m = mids[i];
      if (!(m > 0 && m < s[i])) {
        throw new IllegalArgumentException("--mid levels must decrease strictly inside (0, σ_max = " + hi
            + "), got " + m + (i == 0 ? "" : " after " + s[i]));
      }
      s[i + 1] = m;
    }
    s[steps] = 0;
    return Grid.ofSigmas(process, s);
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
