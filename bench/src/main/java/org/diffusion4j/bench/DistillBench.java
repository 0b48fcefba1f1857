package org.diffusion4j.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.cli.plot.Scatter;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.distill.Distillation;
import org.diffusion4j.train.distill.FlowMapRuns;
import org.diffusion4j.train.eval.SlicedWasserstein;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.RunConfig;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.MlpConfig;

/**
 * {@code bin/bench distill}: every few-step method on 2-D data sets. A teacher (EDM, MLP) is trained per
 * data set; each method distils it (or trains from scratch: ct, sct, mft = Mean Flow) and is sampled at 1, 2 and 4 NFE with
 * its own sampler; the score is the sliced 2-Wasserstein distance (512 directions) of {@code --samples}
 * samples to as many fresh data points, next to the distance between two independent data sets of that
 * size (the data–data baseline). Progressive distillation runs rounds 8 → 4 → 2 → 1 DDIM steps (the
 * teacher takes 16), each sampled at its own NFE. Writes {@code distill.md} (one table per data set, the
 * wall-clock of each run) and {@code distill-DATA.png} (rows: method; columns: NFE) into {@code --out}.
 * Runs already in {@code --out} are reused.
 *
 * <pre>
 *   bin/bench distill [--data two-moons,checkerboard] [--teacher-steps 3000] [--steps 1500] [--batch 256]
 *                     [--hidden 128] [--blocks 3] [--samples 2000] [--methods cd,scd,...] [--out bench-out/distill]
 *                     [--fake-updates 2] [--dmd-regression 0.25] [--dmd-generator-lr 1] [--mf-unequal 0.25]
 *                     [--mf-power 0.5] [--sct-p-mean -1.5] [--scd-p-mean -2.0] [--lr X]
 * </pre>
 */
public final class DistillBench {
  private static final int[] NFE = {1, 2, 4};
  private static final List<String> ALL = List.of("cd", "scd", "ct", "sct", "ctm", "mf", "mft", "dmd", "kd",
      "pd");

  public static void main(String[] args) throws IOException {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --option value pairs, got " + String.join(" ", args));
      }
      o.put(args[i].substring(2), args[i + 1]);
    }
    List<String> data = List.of(o.getOrDefault("data", "two-moons,checkerboard").split(","));
    long teacherSteps = Long.parseLong(o.getOrDefault("teacher-steps", "3000"));
    long steps = Long.parseLong(o.getOrDefault("steps", "1500"));
    int batch = Integer.parseInt(o.getOrDefault("batch", "256"));
    int hidden = Integer.parseInt(o.getOrDefault("hidden", "128"));
    int blocks = Integer.parseInt(o.getOrDefault("blocks", "3"));
    int samples = Integer.parseInt(o.getOrDefault("samples", "2000"));
    List<String> methods = List.of(o.getOrDefault("methods", String.join(",", ALL)).split(","));
    fakeUpdates = Integer.parseInt(o.getOrDefault("fake-updates", "2"));
    regression = Double.parseDouble(o.getOrDefault("dmd-regression", "0.25"));
    generatorLr = Double.parseDouble(o.getOrDefault("dmd-generator-lr", "1"));
    unequal = Double.parseDouble(o.getOrDefault("mf-unequal", "0.25"));
    // 0.5, not the paper's 1: on 2-D data the gentler adaptive weight is far better (README table).
    power = Double.parseDouble(o.getOrDefault("mf-power", "0.5"));
    // sCT and sCD draw log σ ~ N(P_mean, ·) with P_mean -1.5 and -2.0, not the papers' -1.0 and -0.8: more weight
    // on low noise levels makes their few-step maps on 2-D data far sharper (README table).
    sctPMean = Double.parseDouble(o.getOrDefault("sct-p-mean", "-1.5"));
    scdPMean = Double.parseDouble(o.getOrDefault("scd-p-mean", "-2.0"));
    lr = o.containsKey("lr") ? Double.valueOf(o.get("lr")) : null;
    for (String m : methods) {
      if (!ALL.contains(m)) {
        throw new IllegalArgumentException("unknown method '" + m + "'; accepted: " + String.join(", ", ALL));
      }
    }
    Path out = Path.of(o.getOrDefault("out", "bench-out/distill"));
    Files.createDirectories(out);
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Command: bin/bench distill %s%n%n", String.join(" ", args)));
    md.append(String.format(Locale.ROOT, "MLP %d × %d, batch %d, teacher EDM %d steps, every method %d steps "
        + "(pd: %d per round), %d samples, sliced W₂ with 512 directions (× data–data baseline in brackets).%n%n",
        blocks, hidden, batch, teacherSteps, steps, steps, samples));
    for (String d : data) {
      md.append(dataSet(d, out.resolve(d), teacherSteps, steps, batch, hidden, blocks, samples, methods, out));
      AtomicFiles.write(out.resolve("distill.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    }
    System.out.println(md);
  }

  private static int fakeUpdates;
  private static double regression;
  private static double generatorLr;
  private static double unequal;
  private static double power;
  private static double sctPMean;
  private static double scdPMean;
  private static Double lr;

  private record Row(String method, double[] swd, double seconds, String note) {}

  private static double[] points(DataSource d, int n, long seed) {
    float[] f = d.sample(n, new SplittableRandom(seed)).x();
    double[] x = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      x[i] = f[i];
    }
    return x;
  }

  private static long[] seeds(int n) {
    long[] s = new long[n];
    for (int i = 0; i < n; i++) {
      s[i] = 1_000_000 + i;
    }
    return s;
  }

  private static double[] sample(Denoiser model, RunConfig c, Sampler sampler, Grid grid, int n) {
    return Sampling.of(model, c.sampleShape()).sampler(sampler).grid(grid).seeds(seeds(n)).batch(n).run().samples();
  }

  private static String dataSet(String data, Path dir, long teacherSteps, long steps, int batch, int hidden,
      int blocks, int samples, List<String> methods, Path out) throws IOException {
    Files.createDirectories(dir);
    DataSource source = DataSources.parse(data, DataOptions.defaults());
    double[] fresh = points(source, samples, 11);
    double baseline = SlicedWasserstein.distance(fresh, points(source, samples, 12), 2, 512, 5);
    MlpConfig net = new MlpConfig(2, hidden, blocks, 64, 0);
    Path teacher = dir.resolve("teacher");
    double teacherSeconds = timed(teacher, () -> Training.on(data).objective("edm").network(net).steps(teacherSteps)
        .batch(batch).train(teacher).close());
    List<Row> rows = new ArrayList<>();
    Map<String, double[][]> shown = new LinkedHashMap<>();
    try (TrainedModel tm = TrainedModel.load(teacher, true)) {
      RunConfig c = tm.config();
      double[] swd = new double[NFE.length];
      double[][] pics = new double[NFE.length][];
      for (int k = 0; k < NFE.length; k++) {
        pics[k] = sample(tm.denoiser(), c, SamplerRegistry.create("ddim", Map.of()),
            FlowMapRuns.grid(c.process(), NFE[k]), samples);
        swd[k] = SlicedWasserstein.distance(pics[k], fresh, 2, 512, 5);
      }
      double heun = SlicedWasserstein.distance(sample(tm.denoiser(), c, SamplerRegistry.create("heun", Map.of()),
          GridSpec.karras().build(c.process(), 18), samples), fresh, 2, 512, 5);
      rows.add(new Row("teacher (DDIM, few-step grid)", swd, teacherSeconds, String.format(Locale.ROOT,
          "Heun 18 steps (35 NFE): %.4f (%.2f×)", heun, heun / baseline)));
      shown.put("teacher DDIM", pics);
    }
    for (String m : methods) {
      if (m.equals("pd")) {
        double[] swd = new double[NFE.length];
        double[][] pics = new double[NFE.length][];
        double seconds = 0;
        Path prev = teacher;
        for (int levels : new int[] {8, 4, 2, 1}) {
          Path run = dir.resolve("pd" + levels);
          Path from = prev;
          seconds += timed(run, () -> Distillation.from(from).method("pd").levels(levels).steps(steps).batch(batch).run(run).close());
          prev = run;
          for (int k = 0; k < NFE.length; k++) {
            if (NFE[k] == levels) {
              try (TrainedModel tm = TrainedModel.load(run, true)) {
                pics[k] = sample(tm.denoiser(), tm.config(), SamplerRegistry.create("ddim", Map.of()),
                    GridSpec.karras().build(tm.config().process(), levels), samples);
                swd[k] = SlicedWasserstein.distance(pics[k], fresh, 2, 512, 5);
              }
            }
          }
        }
        rows.add(new Row("pd (rounds 8→4→2→1)", swd, seconds, "DDIM on the round's Karras grid (its last step is σ_min → 0)"));
        shown.put("pd", pics);
        continue;
      }
      Path run = dir.resolve(m);
      String fromScratchNote;
      double seconds = timed(run, () -> {
        if (fromScratch(m)) {
          // mft: Mean Flow trained from scratch (objective mf), next to mf, its distillation from the teacher.
          Training tr = Training.on(data).objective(m.equals("mft") ? "mf" : m).network(net).steps(teacherSteps)
              .batch(batch);
          if (m.equals("mft") || m.equals("sct")) {
            tr.flowMap(org.diffusion4j.train.distill.FlowMapSettings.DEFAULT.withMeanFlow(unequal, power)
                .withScm(sctPMean, org.diffusion4j.train.distill.FlowMapSettings.DEFAULT.scmPStd()));
          }
          tr.train(run).close();
        } else {
          Distillation d = Distillation.from(teacher).method(m).steps(steps).batch(batch)
              .fakeUpdates(m.equals("dmd") ? fakeUpdates : 1).generatorLrScale(generatorLr).meanFlowUnequal(unequal).meanFlowPower(power)
              .scmNoise(scdPMean, 1.6);
          if (m.equals("dmd")) {
            d.regression(regression, 1000);
          }
          if (lr != null) {
            d.lr(lr);
          }
          d.run(run).close();
        }
      });
      try (TrainedModel tm = TrainedModel.load(run, true)) {
        RunConfig c = tm.config();
        double[] swd = new double[NFE.length];
        double[][] pics = new double[NFE.length][];
        for (int k = 0; k < NFE.length; k++) {
          pics[k] = sample(FlowMapRuns.model(tm), c, FlowMapRuns.sampler(c), FlowMapRuns.grid(c, c.process(), NFE[k]),
              samples);
          swd[k] = SlicedWasserstein.distance(pics[k], fresh, 2, 512, 5);
        }
        org.diffusion4j.train.distill.FlowMapSettings fms = fromScratch(m)
            ? org.diffusion4j.train.distill.FlowMapSettings.read(org.diffusion4j.train.loop.Checkpoint.readConfig(run),
                run.toString()) : null;
        if (m.equals("mft")) {
          fromScratchNote = String.format(Locale.ROOT, ", %s r ≠ t, p = %s", fms.meanFlowUnequal(), fms.meanFlowPower());
        } else if (m.equals("sct")) {
          fromScratchNote = String.format(Locale.ROOT, ", P_mean %s, P_std %s", fms.scmPMean(), fms.scmPStd());
        } else {
          fromScratchNote = "";
        }
        String note = fromScratch(m) ? "from scratch, " + teacherSteps + " steps" + fromScratchNote
            : m.equals("dmd") ? String.format(Locale.ROOT, "fake score %d updates per generator update, generator lr × %s, "
            + "regression λ %s", fakeUpdates, generatorLr, regression)
            : m.equals("scd") ? scdNote(run) : "";
        rows.add(new Row(m, swd, seconds, note));
        shown.put(m, pics);
      }
    }
    StringBuilder t = new StringBuilder();
    t.append(String.format(Locale.ROOT, "### %s (data–data baseline %.4f)%n%n", data, baseline));
    t.append("| method | 1 NFE | 2 NFE | 4 NFE | wall-clock | note |\n|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      t.append("| ").append(r.method());
      for (double s : r.swd()) {
        t.append(s == 0 ? " | – " : String.format(Locale.ROOT, " | %.4f (%.2f×)", s, s / baseline));
      }
      t.append(String.format(Locale.ROOT, " | %.0f s | %s |%n", r.seconds(), r.note()));
    }
    t.append(String.format(Locale.ROOT, "%n![%s](distill-%s.png)%n%n", data, data));
    Scatter plot = new Scatter(Scatter.viewOf(fresh));
    List<BufferedImage> panels = new ArrayList<>();
    shown.forEach((name, pics) -> {
      for (int k = 0; k < NFE.length; k++) {
        panels.add(plot.panel(name + " · " + NFE[k] + " NFE", fresh, pics[k], null));
      }
    });
    AtomicFiles.write(out.resolve("distill-" + data + ".png"), DensityPlot.png(DensityPlot.grid(panels, NFE.length)));
    System.out.print(t);
    return t.toString();
  }

  /** The noise-level draw an sCD run stored (runs from before it was stored: the paper's −0.8, 1.6). */
  private static String scdNote(Path run) throws IOException {
    com.google.gson.JsonObject n = com.google.gson.JsonParser.parseString(
        org.diffusion4j.train.loop.Checkpoint.readConfig(run)).getAsJsonObject()
        .getAsJsonObject(org.diffusion4j.train.distill.Distillation.NOTE);
    return String.format(Locale.ROOT, "P_mean %s, P_std %s",
        n != null && n.has("scm_p_mean") ? n.get("scm_p_mean").getAsDouble() : -0.8,
        n != null && n.has("scm_p_std") ? n.get("scm_p_std").getAsDouble() : 1.6);
  }

  /** The methods trained from scratch (no teacher): ct, sct and mft (Mean Flow). */
  private static boolean fromScratch(String m) {
    return m.equals("ct") || m.equals("sct") || m.equals("mft");
  }

  @FunctionalInterface
  private interface Job {
    void run() throws IOException;
  }

  /** Runs the job unless {@code run} already holds a run; returns its seconds (or those recorded earlier). */
  private static double timed(Path run, Job job) throws IOException {
    Path mark = run.resolve("bench-seconds.txt");
    if (Files.exists(run.resolve(Checkpoint.CONFIG)) && Files.exists(mark)) {
      return Double.parseDouble(Files.readString(mark).trim());
    }
    long t0 = System.nanoTime();
    job.run();
    double s = (System.nanoTime() - t0) / 1e9;
    Files.writeString(mark, String.format(Locale.ROOT, "%.1f%n", s));
    System.err.printf(Locale.ROOT, "%s: %.0f s%n", run, s);
    return s;
  }
}
