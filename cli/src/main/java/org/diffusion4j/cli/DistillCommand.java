package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.diffusion4j.train.distill.Distillation;
import org.diffusion4j.train.distill.FlowMapSettings;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j distill}: distils a trained run into a few-step model. */
@Command(name = "distill", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Distil a trained run (the teacher) into a few-step model: cd = consistency distillation "
        + "(Song et al. 2023) with a Heun teacher step, sampled with d4j sample --model OUT --steps 1|2|4; pd = one "
        + "round of progressive distillation (Salimans & Ho 2022), sampled with --sampler ddim --grid karras "
        + "--steps N; distil the result again with half the --levels for the next round; kd = knowledge distillation "
        + "(Luhman & Luhman 2021) of the teacher's --levels-step Heun solve into a one-step model (--steps 1); scd = "
        + "continuous-time consistency distillation sCM (Lu & Song 2024; EDM teacher); ctm = consistency trajectory "
        + "model (Kim et al. 2024, two-time MLP or U-Net, no GAN term); dmd = distribution matching distillation (Yin et al. "
        + "2024) with a fake-score network; mf = Mean Flow distillation (Geng et al. 2025, two-time MLP or U-Net); "
        + "guided-pd = stage 1 of guided distillation (Meng et al. 2023): a class-conditional teacher's "
        + "classifier-free guidance into a student taking w as an input (--guidance-range), sampled with "
        + "--guidance W --class K; then --method pd on that student halves its steps at every w (stage 2). Every "
        + "student except pd and guided-pd is sampled with its own sampler: d4j sample --model OUT --steps 1|2|4."},
    footer = {"", "Examples:", "  d4j train --data two-moons --steps 3000 --out runs/moons",
        "  d4j distill --teacher runs/moons --method cd --steps 2000 --out runs/moons-cd",
        "  d4j distill --out runs/moons-cd --resume          # after Ctrl-C or a crash: continue exactly",
        "  d4j sample --model runs/moons-cd --steps 2 --out moons-cd.png",
        "  d4j distill --teacher runs/moons --method pd --levels 8 --steps 2000 --out runs/moons-pd8",
        "  d4j distill --teacher runs/moons --method scd --steps 2000 --out runs/moons-scd",
        "  d4j distill --teacher runs/moons --method dmd --fake-updates 5 --steps 2000 --out runs/moons-dmd",
        "  d4j distill --teacher runs/gmm-c --method guided-pd --guidance-range 0,4 --steps 2000 --out runs/gmm-g",
        "  d4j distill --teacher runs/gmm-g --method pd --levels 8 --steps 2000 --out runs/gmm-g8"})
final class DistillCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--teacher", paramLabel = "RUN", description = "The trained run to distil; required unless --resume.")
  Path teacher;

  @Option(names = "--resume", description = "Continue the distillation in --out from its last checkpoint (after Ctrl-C, "
      + "a crash or kill -9): the teacher, method and settings it stored are used, --steps may extend it, and the "
      + "continued run takes exactly the steps the uninterrupted one would have taken.")
  boolean resume;

  @Option(names = "--method", defaultValue = "cd", paramLabel = "ID",
      description = "Method: cd (consistency distillation, default), pd (one round of progressive distillation: "
          + "the student's DDIM on --levels Karras steps copies the teacher's DDIM on twice as many), kd "
          + "(one-step knowledge distillation of the teacher's Heun solve), scd (sCM), ctm, dmd, mf or guided-pd.")
  String method;

  @Option(names = "--steps", paramLabel = "N", description = "Optimiser steps (default 2000; on --resume: the run's own).")
  Long steps;

  @Option(names = "--batch", paramLabel = "N", description = "Batch size (default: the teacher's).")
  Integer batch;

  @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: the teacher's).")
  Double lr;

  @Option(names = "--ema", paramLabel = "X",
      description = "EMA decay of the student, for cd also its target network θ⁻ (default cd 0.95, pd 0.999).")
  Double ema;

  @Option(names = "--teacher-step", defaultValue = "heun", paramLabel = "ID",
      description = "The teacher's ODE step: heun (default) or euler.")
  String teacherStep;

  @Option(names = "--levels", defaultValue = "18", paramLabel = "N",
      description = "cd, ctm: Karras noise levels N of the discretisation; pd: the student's DDIM steps N; kd: the "
          + "teacher's Heun steps (default 18).")
  int levels;

  @Option(names = "--fake-updates", defaultValue = "1", paramLabel = "K",
      description = "dmd: fake-score updates per generator update (default 1 as DMD; DMD2 uses 5).")
  int fakeUpdates;

  @Option(names = "--regression-weight", paramLabel = "X",
      description = "dmd: weight of DMD's regression loss on teacher ODE solutions (default 0.25 for unconditional "
          + "teachers as Yin et al. 2024, 0 for class-conditional ones; 0 turns it off).")
  Double regressionWeight;

  @Option(names = "--regression-pairs", defaultValue = "1000", paramLabel = "N",
      description = "dmd: teacher Heun solutions (on --levels Karras steps) the regression loss uses (default 1000).")
  int regressionPairs;

  @Option(names = "--generator-lr-scale", defaultValue = "1", paramLabel = "X",
      description = "dmd: the generator's learning rate as a multiple of --lr (the fake score's; default 1).")
  double generatorLrScale;

  @picocli.CommandLine.Mixin
  FlowMapOptions flowMap;

  @Option(names = "--dsm-weight", defaultValue = "1", paramLabel = "X",
      description = "ctm: weight of the denoising score-matching regulariser (default 1).")
  double dsmWeight;

  @Option(names = "--guidance-range", split = ",", paramLabel = "LO,HI",
      description = "guided-pd: the guidance scales w the student learns, drawn uniformly (default 0,4; w = 1 is "
          + "the conditional model, 0 the unconditional one).")
  double[] guidanceRange;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Seed (default 0).")
  long seed;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "New run directory of the student.")
  Path out;

  /** Options that shape a new distillation; on --resume each is refused, since the run keeps what it stored. */
  private static final java.util.List<String> RUN_OPTIONS = java.util.stream.Stream.concat(java.util.stream.Stream.of(
      "--teacher", "--method", "--batch", "--lr", "--ema", "--teacher-step", "--levels", "--fake-updates",
      "--regression-weight", "--regression-pairs", "--generator-lr-scale", "--dsm-weight", "--guidance-range", "--seed"),
      FlowMapOptions.NAMES.stream()).toList();

  @Override
  public Integer call() throws Exception {
    PrintWriter w = spec.commandLine().getOut();
    if (resume) {
      RunDirs.refuseOnResume(spec.commandLine().getParseResult(), RUN_OPTIONS, out);
      try (TrainedModel s = Distillation.resume(out, steps, progress(w))) {
        w.printf(Locale.ROOT, "wrote %s (step %d)%n", out, s.step());
      }
      return 0;
    }
    if (teacher == null) {
      throw new IllegalArgumentException("give --teacher RUN (the run to distil), or --resume to continue --out");
    }
    if (!RunDirs.isRun(teacher)) {
      throw new IllegalArgumentException("--teacher " + teacher + " holds no run (no config.json)");
    }
    RunDirs.checkNew(out);
    Distillation d = Distillation.from(teacher).method(method.toLowerCase(Locale.ROOT)).steps(steps == null ? 2000 : steps)
        .teacherStep(teacherStep.toLowerCase(Locale.ROOT)).levels(levels).seed(seed)
        .fakeUpdates(fakeUpdates).dsmWeight(dsmWeight);
    if (guidanceRange != null) {
      if (!method.equalsIgnoreCase("guided-pd")) {
        throw new IllegalArgumentException("--guidance-range applies to --method guided-pd only (a pd round of a "
            + "guided student reuses its range)");
      }
      if (guidanceRange.length != 2) {
        throw new IllegalArgumentException("--guidance-range takes LO,HI, got " + guidanceRange.length + " values");
      }
      d.guidanceRange(guidanceRange[0], guidanceRange[1]);
    }
    if (regressionWeight != null) {
      d.regression(regressionWeight, regressionPairs);
    } else if (regressionPairs != 1000) {
      d.regressionPairs(regressionPairs);
    }
    d.generatorLrScale(generatorLrScale);
    flowMap.check("--method", method, "scd");
    if (flowMap.mfUnequal != null) {
      d.meanFlowUnequal(flowMap.mfUnequal);
    }
    if (flowMap.mfPower != null) {
      d.meanFlowPower(flowMap.mfPower);
    }
    if (flowMap.scmPMean != null || flowMap.scmPStd != null) {
      FlowMapSettings def = Distillation.DEFAULT_SETTINGS;
      d.scmNoise(flowMap.scmPMean != null ? flowMap.scmPMean : def.scmPMean(),
          flowMap.scmPStd != null ? flowMap.scmPStd : def.scmPStd());
    }
    if (batch != null) {
      d.batch(batch);
    }
    if (lr != null) {
      d.lr(lr);
    }
    if (ema != null) {
      d.ema(ema);
    }
    RunConfig sc = d.studentConfig();
    w.printf(Locale.ROOT, "distilling %s into %s: %s, %d steps × batch %d, lr %.3g, %d levels, %s teacher step%n",
        teacher, out, method, sc.training().steps(), sc.training().batch(), sc.training().lr(), levels, teacherStep);
    w.flush();
    d.listener(progress(w));
    try (TrainedModel s = d.run(out)) {
      String m = method.toLowerCase(Locale.ROOT);
      String hint = m.equals("guided-pd") ? "--sampler heun --steps 18 --guidance W --class K"
          : m.equals("pd") ? "--sampler ddim --grid karras --steps " + levels
          + (org.diffusion4j.train.nn.NetworkDenoiser.guided(s.network()) ? " --guidance W --class K" : "")
          : "--steps 1|2|4";
      w.printf(Locale.ROOT, "wrote %s (step %d); sample with: d4j sample --model %s %s --out x.png%n", out,
          s.step(), out, hint);
    }
    return 0;
  }

  /** A line at every tenth of the run and at its end. */
  private static Trainer.Listener progress(PrintWriter w) {
    return new Trainer.Listener() {
      private long tenth = -1;

      @Override
      public void onLog(Trainer.StepLog log) {
        // log.step() counts the steps done; a logged step in a new tenth of the run (or the last) prints a line.
        long t = log.step() * 10 / log.steps();
        if (t != tenth || log.step() == log.steps()) {
          tenth = t;
          w.printf(Locale.ROOT, "step %d/%d  loss %.4g  %.2f steps/s%n", log.step(), log.steps(), log.loss(),
              log.stepsPerSecond());
          w.flush();
        }
      }
    };
  }
}
