package org.diffusion4j.cli;

import ai.djl.ndarray.types.DataType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.align.Alignment;
import org.diffusion4j.train.align.PreferencePairs;
import org.diffusion4j.train.align.Scorer;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainSettings;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkConfig;
import org.diffusion4j.train.Training;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j align}: learn from preferences — a reward model, Diffusion-DPO, reward-weighted fine-tuning. */
@Command(name = "align", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Fine-tune a trained run toward preferred samples, or fit a reward model to preference pairs.",
        "Pairs come from --pairs FILE.npz (arrays 'preferred' and 'rejected' [n, …] in the data's raw scale, "
            + "optional 'labels' [n]), --pairs FILE.csv (rows preferred,rejected[,label]: image paths relative to the "
            + "CSV) or from --synthetic SCORER, which judges pairs of the model's own samples (near:X,Y prefers points "
            + "near (X, Y); ink prefers thicker strokes on images; digit:K prefers what the shipped MNIST classifier "
            + "calls a K).",
        "dpo: Diffusion-DPO (Wallace et al. 2024) against the frozen run; rw: reward-weighted fine-tuning with a KL "
            + "term (needs --synthetic); reward: a Bradley–Terry reward model and its held-out accuracy; reward-guidance: "
            + "the same reward model, then sampling guided by it with scale 1/β (no fine-tuning; sample with "
            + "'d4j sample --reward OUT --reward-scale S'). The tuned run "
            + "in --out samples like any other ('d4j sample --model OUT'); the command reports the scorer's win rate of "
            + "tuned over reference samples from the same seeds."},
    footer = {"", "Examples:",
        "  d4j align --model runs/moons --synthetic near:1.5,0 --method dpo --beta 20 --out runs/moons-dpo",
        "  d4j align --model runs/moons --synthetic near:1.5,0 --method rw --beta 0.25 --out runs/moons-rw",
        "  d4j align --model runs/moons --pairs prefs.npz --method reward --out runs/moons-reward",
        "  d4j align --model runs/moons --synthetic near:1.5,0 --method reward-guidance --beta 0.5 --out runs/moons-rg",
        "  d4j align --out runs/moons-dpo --resume --steps 600   # continue a fine-tuning run"})
public final class AlignCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", paramLabel = "RUN",
      description = "The trained run (the frozen reference); required unless --resume.")
  Path model;

  @Option(names = "--resume", description = "Continue the fine-tuning run in --out from its last checkpoint (its stored "
      + "method, β, pairs or samples and reference); --steps may raise the step count.")
  boolean resume;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the tuned run (or reward model) goes.")
  Path out;

  @Option(names = "--method", paramLabel = "M", defaultValue = "dpo",
      description = "dpo | dpo-linear | rw | reward | reward-guidance (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--pairs", paramLabel = "FILE.npz|FILE.csv", description = "Preference pairs (see above).")
  Path pairsFile;

  @Option(names = "--synthetic", paramLabel = "SCORER",
      description = "Judge the model's own samples: near:X,Y[,…], ink or digit:K.")
  String synthetic;

  @Option(names = "--pairs-n", paramLabel = "N", defaultValue = "2000",
      description = "Pairs (or, for rw, samples) generated with --synthetic (default: ${DEFAULT-VALUE}).")
  int pairsN;

  @Option(names = "--beta", paramLabel = "B",
      description = "dpo: β of the logistic loss (default 20; larger stays nearer the reference); rw: temperature of "
          + "the weights exp(r/β) (default 0.25); reward-guidance: the KL weight β, guidance scale 1/β (default 1).")
  Double beta;

  @Option(names = "--kl", paramLabel = "A", defaultValue = "1.0",
      description = "rw: weight of the KL term to the reference (default: ${DEFAULT-VALUE}).")
  double kl;

  @Option(names = "--steps", paramLabel = "N", description = "Optimiser steps (default: 300; on --resume: the run's own).")
  Long stepsGiven;

  long steps;

  @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "Pairs or samples per step (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--lr", paramLabel = "LR", defaultValue = "1e-3", description = "Learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--sample-steps", paramLabel = "N", defaultValue = "18",
      description = "Heun steps for the model's own samples (default: ${DEFAULT-VALUE}).")
  int sampleSteps;

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (resume) {
      return resume(w);
    }
    if (model == null) {
      throw new IllegalArgumentException("give --model RUN (the reference), or --resume to continue --out");
    }
    steps = stepsGiven == null ? 300 : stepsGiven;
    String m = method.toLowerCase(Locale.ROOT);
    if (!java.util.List.of("dpo", "dpo-linear", "rw", "reward", "reward-guidance").contains(m)) {
      throw new IllegalArgumentException("unknown --method '" + method + "'; accepted: dpo, dpo-linear, rw, reward, "
          + "reward-guidance");
    }
    if ((pairsFile == null) == (synthetic == null)) {
      throw new IllegalArgumentException("give --pairs FILE.npz or --synthetic SCORER (one of them)");
    }
    if (m.equals("rw") && synthetic == null) {
      throw new IllegalArgumentException("--method rw weights samples by a score: give --synthetic SCORER");
    }
    if (pairsN < 2) {
      throw new IllegalArgumentException("--pairs-n must be >= 2, got " + pairsN);
    }
    RunDirs.checkNew(out);
    RunConfig rc = TrainedModel.readConfig(model);
    Scorer scorer = synthetic == null ? null : Scorer.parse(synthetic);
    long[] shape = rc.sampleShape();
    TrainSettings settings = new TrainSettings(steps, batch, 1, lr, 0, "constant", 1.0, 0.99, 0, seed,
        (int) Math.max(1, steps / 20), (int) steps);
    TrainCommand.Progress progress = new TrainCommand.Progress(spec.commandLine().getErr(), false, steps);
    org.diffusion4j.train.loop.Trainer.Listener listener = new org.diffusion4j.train.loop.Trainer.Listener() {
      @Override
      public void onLog(org.diffusion4j.train.loop.Trainer.StepLog s) {
        progress.update(s);
      }
    };
    if (m.equals("rw")) {
      double[] samples = samples(model, rc, 1_000_000, 2 * pairsN);
      w.printf(Locale.ROOT, "reward-weighted fine-tuning of %s on %d of its own samples (β %s, KL weight %s) → %s%n", model,
          samples.length / perSample(shape), Format.num(beta == null ? 0.25 : beta), Format.num(kl), out);
      w.flush();
      Alignment.rewardWeighted(model, samples, synthetic, beta == null ? 0.25 : beta, kl, settings, out, listener)
          .close();
      progress.done();
      report(w, rc, scorer);
      return 0;
    }
    PreferencePairs pairs = pairsFile == null
        ? PreferencePairs.judge(samples(model, rc, 1_000_000, 2 * pairsN), shape, scorer)
        : pairsFile.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")
            ? PreferencePairs.readCsv(pairsFile, shape, rc.scaling().scale(), rc.scaling().shift())
            : PreferencePairs.read(pairsFile, rc.scaling().scale(), rc.scaling().shift());
    if (m.equals("reward") || m.equals("reward-guidance")) {
      PreferencePairs[] split = pairs.split(Math.max(1, pairs.size() * 4 / 5));
      NetworkConfig net = shape.length == 1 ? new MlpConfig((int) shape[0], 64, 2, 16, 0)
          : Training.defaultNetwork(shape, 0);
      w.printf(Locale.ROOT, "Bradley–Terry reward model on %d pairs (%d held out) → %s%n", split[0].size(),
          split[1].size(), out);
      w.flush();
      Alignment.Reward r = Alignment.trainReward(split[0], split[1], net, settings, out, listener);
      progress.done();
      w.printf(Locale.ROOT, "accuracy  train %.3f, held-out %.3f%n", r.trainAccuracy(), r.heldOutAccuracy());
      if (m.equals("reward-guidance")) {
        double b = beta == null ? 1 : beta;
        if (!(b > 0) || Double.isInfinite(b)) {
          throw new IllegalArgumentException("--beta must be a finite number > 0, got " + b);
        }
        w.printf(Locale.ROOT, "reward guidance with scale 1/β = %s%n", Format.num(1 / b));
        if (scorer != null) {
          reportGuided(w, rc, scorer, 1 / b);
        }
        w.printf("sample it: d4j sample --model %s --reward %s --reward-scale %s --sampler euler --out guided.png%n",
            model, out, Format.num(1 / b));
      }
      return 0;
    }
    double b = beta == null ? 20 : beta;
    w.printf(Locale.ROOT, "Diffusion-DPO%s of %s on %d pairs (β %s) → %s%n", m.equals("dpo-linear") ? " (linear surrogate)" : "",
        model, pairs.size(), Format.num(b), out);
    w.flush();
    Alignment.dpo(model, pairs, b, m.equals("dpo-linear"), settings, out, listener).close();
    progress.done();
    if (scorer != null) {
      report(w, rc, scorer);
    }
    return 0;
  }

  /** --resume: continue the fine-tuning run in --out. */
  private int resume(PrintWriter w) throws Exception {
    RunDirs.refuseOnResume(spec.commandLine().getParseResult(), java.util.List.of("--model", "--method", "--pairs",
        "--synthetic", "--pairs-n", "--beta", "--kl", "--batch", "--lr", "--seed"), out);
    if (!org.diffusion4j.train.align.Alignment.isAlignmentRun(out)) {
      throw new IllegalArgumentException("--resume: " + out + " holds no fine-tuning run of d4j align");
    }
    RunConfig rc = TrainedModel.readConfig(out);
    long target = stepsGiven == null ? rc.training().steps() : stepsGiven;
    TrainCommand.Progress progress = new TrainCommand.Progress(spec.commandLine().getErr(), false, target);
    Alignment.resume(out, stepsGiven, new org.diffusion4j.train.loop.Trainer.Listener() {
      @Override
      public void onLog(org.diffusion4j.train.loop.Trainer.StepLog s) {
        progress.update(s);
      }
    }).close();
    progress.done();
    w.printf(Locale.ROOT, "resumed %s to step %d%n", out, target);
    return 0;
  }

  /** Win rate of reward-guided over plain samples from the same seeds, by the scorer. */
  private void reportGuided(PrintWriter w, RunConfig rc, Scorer scorer, double scale) throws Exception {
    int n = rc.sampleShape().length == 3 ? 64 : 1000;
    int d = perSample(rc.sampleShape());
    try (TrainedModel tm = TrainedModel.load(model, true);
        org.diffusion4j.train.align.RewardModel rm = org.diffusion4j.train.align.RewardModel.load(out)) {
      Grid grid = org.diffusion4j.schedule.GridSpec.karras().build(rc.process(), sampleSteps);
      long[] seeds = Sampling.seedRange(2_000_000, 2_000_000 + n - 1);
      double[] ref = scorer.score(Sampling.of(tm.denoiser(), rc.sampleShape())
          .sampler(SamplerRegistry.create("euler", Map.of())).grid(grid).seeds(seeds).batch(64)
          .dtype(DataType.FLOAT32).run().samples(), d);
      double[] guided = scorer.score(Sampling.of(new org.diffusion4j.guidance.RewardGuidance(tm.denoiser(), rm.reward(),
          scale), rc.sampleShape()).sampler(SamplerRegistry.create("euler", Map.of())).grid(grid).seeds(seeds).batch(64)
          .dtype(DataType.FLOAT32).run().samples(), d);
      int wins = 0;
      double mr = 0;
      double mg = 0;
      for (int i = 0; i < n; i++) {
        wins += guided[i] > ref[i] ? 1 : 0;
        mr += ref[i] / n;
        mg += guided[i] / n;
      }
      w.printf(Locale.ROOT, "score     reference %.4f, reward-guided %.4f (mean over %d samples, euler %d steps)%n", mr, mg,
          n, sampleSteps);
      w.printf(Locale.ROOT, "win rate  %.1f%% of seeds score higher with guidance%n", 100.0 * wins / n);
    }
  }

  private static int perSample(long[] shape) {
    int d = 1;
    for (long v : shape) {
      d *= (int) v;
    }
    return d;
  }

  /** n samples of a run in stored scale, heun on its default grid, seeds from {@code first}. */
  private double[] samples(Path run, RunConfig rc, long first, int n) throws Exception {
    try (TrainedModel tm = TrainedModel.load(run, true)) {
      if (sampleSteps < 1) {
        throw new IllegalArgumentException("--sample-steps must be >= 1, got " + sampleSteps);
      }
      Grid grid = org.diffusion4j.schedule.GridSpec.karras().build(rc.process(), sampleSteps);
      return Sampling.of(tm.denoiser(), rc.sampleShape()).sampler(SamplerRegistry.create("heun", Map.of()))
          .grid(grid).seeds(Sampling.seedRange(first, first + n - 1)).batch(rc.sampleShape().length == 3 ? 64 : 4096)
          .dtype(DataType.FLOAT32).run().samples();
    }
  }

  /** The scorer's win rate of tuned over reference samples from the same 1000 seeds, and both mean scores. */
  private void report(PrintWriter w, RunConfig rc, Scorer scorer) throws Exception {
    int n = 1000;
    int d = perSample(rc.sampleShape());
    double[] ref = scorer.score(samples(model, rc, 2_000_000, n), d);
    double[] tuned = scorer.score(samples(out, rc, 2_000_000, n), d);
    int wins = 0;
    double mr = 0;
    double mt = 0;
    for (int i = 0; i < n; i++) {
      wins += tuned[i] > ref[i] ? 1 : 0;
      mr += ref[i] / n;
      mt += tuned[i] / n;
    }
    w.printf(Locale.ROOT, "score     reference %.4f, tuned %.4f (mean over %d samples)%n", mr, mt, n);
    w.printf(Locale.ROOT, "win rate  %.1f%% of seeds score higher after tuning%n", 100.0 * wins / n);
    w.printf("sample it: d4j sample --model %s --sampler heun --steps 18 --out tuned.png%n", out);
  }
}
