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
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.SlicedWasserstein;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.transport.FlowOde;
import org.diffusion4j.train.transport.FlowSpec;
import org.diffusion4j.train.transport.Points;
import org.diffusion4j.train.transport.Reflow;
import org.diffusion4j.train.transport.TransportReport;
import org.diffusion4j.train.transport.VelocityField;

/**
 * What couplings and reflow buy in Euler steps, on 2-D transport problems: for {@code cfm},
 * {@code ot-cfm}, {@code sb-cfm} and 1 and 2 reflow rounds of the {@code cfm} run (the 2- and
 * 3-rectified flows of Liu et al. 2023), on 8-gaussians → two-moons and N(0, I) → checkerboard, the
 * straightness of the flow's own paths, the transport cost of the coupling it induces against the exact OT
 * cost of the same points, and the sliced W₂ to fresh data of Euler with 1, 2, 4, 8 and 100 steps (also as
 * a multiple of the distance between two independent data sets). Writes a table (Markdown), JSON and, per
 * problem, one picture: per method its ODE trajectories and its 1-step Euler samples.
 *
 * <p>Usage: {@code bin/bench flow [--steps 3000] [--batch 512] [--hidden 256] [--blocks 4] [--pairs 10000]
 * [--reflow-steps 2000] [--n 2000] [--cases moons,checkerboard] [--out bench-out/flow]}, and on MNIST
 * {@code bin/bench flow --mnist ../shared/data/mnist [--mnist-steps 2000] [--mnist-n 2000]}: OT-CFM vs CFM,
 * MNIST feature distance at 5, 10 and 20 Euler steps. Runs already trained in {@code --out} (finished) are
 * reused, so a second call only measures.
 */
public final class FlowBench {
  private static final int[] EULER = {1, 2, 4, 8, 100};
  private static final String[] MINIBATCH = {"cfm", "ot-cfm", "sb-cfm"};

  /** A transport problem. */
  record Case(String id, String source, String target) {}

  /** One measured method. */
  record Row(String method, TransportReport report, double baseline, double seconds) {
    double ratio(int k) {
      for (TransportReport.EulerRow r : report.euler()) {
        if (r.steps() == k) {
          return r.slicedW2() / baseline;
        }
      }
      return Double.NaN;
    }

    /** Fewest Euler steps (≤ 4) within 1.5× of the 100-step quality, or 0. */
    int stepsToGoal() {
      double best = ratio(100);
      for (int k : new int[] {1, 2, 4}) {
        if (ratio(k) <= 1.5 * best) {
          return k;
        }
      }
      return 0;
    }
  }

  private FlowBench() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> o = options(args);
    long steps = Long.parseLong(o.getOrDefault("steps", "3000"));
    int batch = Integer.parseInt(o.getOrDefault("batch", "512"));
    int hidden = Integer.parseInt(o.getOrDefault("hidden", "256"));
    int blocks = Integer.parseInt(o.getOrDefault("blocks", "4"));
    int pairs = Integer.parseInt(o.getOrDefault("pairs", "10000"));
    long reflowSteps = Long.parseLong(o.getOrDefault("reflow-steps", "2000"));
    int n = Integer.parseInt(o.getOrDefault("n", "2000"));
    Path out = Path.of(o.getOrDefault("out", "bench-out/flow"));
    if (o.containsKey("mnist")) {
      mnist(Path.of(o.get("mnist")), Long.parseLong(o.getOrDefault("mnist-steps", "2000")),
          Integer.parseInt(o.getOrDefault("mnist-n", "2000")), out);
      return;
    }
    List<Case> cases = new ArrayList<>();
    for (String c : o.getOrDefault("cases", "moons,checkerboard").split(",")) {
      switch (c.trim()) {
        case "moons" -> cases.add(new Case("8gaussians-to-moons", "8-gaussians", "two-moons"));
        case "checkerboard" -> cases.add(new Case("gaussian-to-checkerboard", "gaussian", "checkerboard"));
        default -> throw new IllegalArgumentException("--cases: unknown case '" + c + "'; accepted: moons, checkerboard");
      }
    }
    Files.createDirectories(out);
    StringBuilder md = new StringBuilder();
    StringBuilder json = new StringBuilder("{");
    System.out.printf(Locale.ROOT, "flow bench: MLP %d×%d, %d steps × batch %d; reflow %d pairs, %d steps/round; "
        + "%d evaluation points%n", blocks, hidden, steps, batch, pairs, reflowSteps, n);
    for (Case c : cases) {
      Path dir = out.resolve(c.id());
      List<Row> rows = new ArrayList<>();
      Map<String, Path> runs = new LinkedHashMap<>();
      for (String m : MINIBATCH) {
        Path run = dir.resolve(m);
        double secs = train(c, m, run, steps, batch, hidden, blocks);
        runs.put(m, run);
        rows.add(new Row(m, null, 0, secs));
      }
      Path reflowDir = dir.resolve("reflow");
      double reflowSecs = 0;
      if (!finished(reflowDir.resolve("round-2"))) {
        long t0 = System.nanoTime();
        Reflow.run(runs.get("cfm"), new Reflow.Options(pairs, 2, reflowSteps, batch, 1e-3, 50, FlowOde.Method.RK4, 0,
            true), reflowDir, progress("reflow"), System.out::println);
        reflowSecs = (System.nanoTime() - t0) / 1e9;
      }
      runs.put("cfm + 1 reflow (2-RF)", reflowDir.resolve("round-1"));
      runs.put("cfm + 2 reflows (3-RF)", reflowDir.resolve("round-2"));
      rows.add(new Row("cfm + 1 reflow (2-RF)", null, 0, reflowSecs / 2));
      rows.add(new Row("cfm + 2 reflows (3-RF)", null, 0, reflowSecs / 2));

      DataSource data = DataSources.parse(c.target());
      long[] shape = {2};
      double[] y = host(data.sample(n, new SplittableRandom(101)).x());
      double baseline = SlicedWasserstein.distance(host(data.sample(n, new SplittableRandom(202)).x()), y, 2, 256, 7);
      List<Row> measured = new ArrayList<>();
      List<BufferedImage> top = new ArrayList<>();
      List<BufferedImage> bottom = new ArrayList<>();
      FlowSpec first = Reflow.specOf(runs.values().iterator().next());
      double[] both = java.util.Arrays.copyOf(y, 2 * y.length);
      System.arraycopy(Reflow.sourceDraws(first, shape, n, 303), 0, both, y.length, y.length);
      Scatter sc = new Scatter(Scatter.viewOf(both));
      int i = 0;
      for (Map.Entry<String, Path> e : runs.entrySet()) {
        Row pending = rows.get(i++);
        FlowSpec spec = Reflow.specOf(e.getValue());
        double[] x0 = Reflow.sourceDraws(spec, shape, n, 303);
        try (TrainedModel model = TrainedModel.load(e.getValue(), true)) {
          VelocityField v = VelocityField.of(model.denoiser(), shape, Conditioning.NONE);
          TransportReport r = TransportReport.measure(v, new Points(x0, n, 2), new Points(y, n, 2), EULER, 100);
          measured.add(new Row(pending.method(), r, baseline, pending.seconds()));
          int k = Math.min(150, n);
          double[] few = java.util.Arrays.copyOf(x0, 2 * k);
          double[][] path = FlowOde.trajectory(v, few, k, 25, FlowOde.Method.RK4);
          List<double[]> lines = new ArrayList<>();
          for (int p = 0; p < k; p++) {
            double[] l = new double[2 * path.length];
            for (int s = 0; s < path.length; s++) {
              l[2 * s] = path[s][2 * p];
              l[2 * s + 1] = path[s][2 * p + 1];
            }
            lines.add(l);
          }
          top.add(sc.panel(pending.method() + ": paths", y, path[path.length - 1], lines));
          double[] one = FlowOde.integrate(v, x0, n, 1, FlowOde.Method.EULER);
          bottom.add(sc.panel(String.format(Locale.ROOT, "1 Euler step: SW2 %.2f× data", measured.get(
              measured.size() - 1).ratio(1)), y, one, null));
        }
      }
      List<BufferedImage> panels = new ArrayList<>(top);
      panels.addAll(bottom);
      Path png = out.resolve(c.id() + ".png");
      AtomicFiles.write(png, DensityPlot.png(DensityPlot.grid(panels, top.size())));
      String table = table(c, measured, baseline, n);
      System.out.println();
      System.out.print(table);
      System.out.println("picture: " + png);
      md.append(table).append('\n').append("![").append(c.id()).append("](").append(png.getFileName()).append(")\n\n");
      if (json.length() > 1) {
        json.append(',');
      }
      json.append(json(c, measured, baseline));
    }
    json.append('}');
    AtomicFiles.write(out.resolve("flow.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    AtomicFiles.write(out.resolve("flow.json"), json.toString().getBytes(StandardCharsets.UTF_8));
    System.out.println("wrote " + out.resolve("flow.md") + ", " + out.resolve("flow.json"));
  }

  /**
   * MNIST: {@code cfm} and {@code ot-cfm} U-Nets (the README's MNIST network, batch 64) for the same number
   * of steps, then the Fréchet distance in the shipped classifier's feature space between {@code n} samples
   * (Euler uniform in t with 5, 10 and 20 steps = NFE) and the first {@code n} test images.
   */
  private static void mnist(Path dir, long steps, int n, Path out) throws IOException {
    int[] nfe = {5, 10, 20};
    String data = "mnist:" + dir;
    DataSource test = DataSources.parse(data + ":test");
    long[] shape = test.sampleShape();
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "MNIST, %d steps × batch 64 each; MNIST feature "
        + "distance (FD in the shipped classifier's features) of %d samples vs %d test images, Euler uniform in t%n%n"
        + "| objective | NFE 5 | NFE 10 | NFE 20 | train s |%n|---|---|---|---|---|%n", steps, n, n));
    try (org.diffusion4j.train.eval.MnistClassifier clf = org.diffusion4j.train.eval.MnistClassifier.shipped()) {
      double[] ref = clf.apply(test.first(n, 0).x()).features();
      int fd = ref.length / n;
      for (String objective : new String[] {"cfm", "ot-cfm"}) {
        Path run = out.resolve("mnist-" + objective);
        double secs = 0;
        if (!finished(run)) {
          long t0 = System.nanoTime();
          java.io.PrintWriter pw = new java.io.PrintWriter(System.out, true);
          int code = org.diffusion4j.cli.D4j.execute(pw, pw, "train", "--data", data, "--objective", objective,
              "--base-channels", "32", "--multipliers", "1,2,2", "--blocks-per-level", "1", "--attention", "7",
              "--dropout", "0", "--batch", "64", "--lr", "1e-3", "--warmup", "100", "--ema", "0.995", "--steps",
              Long.toString(steps), "--log-every", Long.toString(Math.max(1, steps / 10)), "--out", run.toString());
          if (code != 0) {
            throw new IllegalStateException("training " + run + " failed with exit code " + code);
          }
          secs = (System.nanoTime() - t0) / 1e9;
        }
        b.append("| ").append(objective);
        try (TrainedModel model = TrainedModel.load(run, true)) {
          VelocityField v = VelocityField.of(model.denoiser(), shape, Conditioning.NONE);
          double[] x0 = Reflow.sourceDraws(Reflow.specOf(run), shape, n, 303);
          for (int k : nfe) {
            double[] x = Reflow.transport(v, x0, n, k, FlowOde.Method.EULER);
            double[] f = clf.apply(x).features();
            double d = org.diffusion4j.train.eval.FrechetDistance.of(
                new org.diffusion4j.train.eval.FeatureStatistics(fd).add(f),
                new org.diffusion4j.train.eval.FeatureStatistics(fd).add(ref));
            b.append(String.format(Locale.ROOT, " | %.2f", d));
            System.out.printf(Locale.ROOT, "  %s: Euler %d steps, FD %.3f%n", objective, k, d);
          }
        }
        b.append(String.format(Locale.ROOT, " | %.0f |%n", secs));
      }
    }
    System.out.println();
    System.out.print(b);
    Files.createDirectories(out);
    AtomicFiles.write(out.resolve("flow-mnist.md"), b.toString().getBytes(StandardCharsets.UTF_8));
    System.out.println("wrote " + out.resolve("flow-mnist.md"));
  }

  /** Trains (or reuses a finished run) and returns the training seconds (0 when reused). */
  private static double train(Case c, String objective, Path run, long steps, int batch, int hidden, int blocks)
      throws IOException {
    if (finished(run)) {
      return 0;
    }
    if (Files.exists(run)) {
      throw new IllegalArgumentException(run + " holds an unfinished run; resume it with d4j train --resume --out "
          + run + " or delete it");
    }
    long t0 = System.nanoTime();
    try (TrainedModel m = Training.on(c.target()).objective(objective)
        .flow(FlowSpec.defaults(objective).withSource(c.source())).network(new MlpConfig(2, hidden, blocks, 64, 0))
        .steps(steps).batch(batch).lr(2e-3).warmup(Math.min(200, steps - 1)).seed(0)
        .logEvery((int) Math.max(1, steps / 10)).checkpointEvery((int) steps)
        .listener(progress(c.id() + " " + objective)).train(run)) {
      return (System.nanoTime() - t0) / 1e9;
    }
  }

  private static boolean finished(Path run) {
    try {
      if (!Files.exists(run.resolve(Checkpoint.CONFIG))) {
        return false;
      }
      org.diffusion4j.train.loop.RunConfig c = org.diffusion4j.train.loop.RunConfig.fromJson(Checkpoint.readConfig(run),
          run.toString());
      return Checkpoint.readWeightsWithStep(run, false).getKey() >= c.training().steps();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static Trainer.Listener progress(String what) {
    return new Trainer.Listener() {
      @Override
      public void onLog(Trainer.StepLog log) {
        System.out.printf(Locale.ROOT, "  %s: step %d/%d loss %.4f (%.1f steps/s)%n", what, log.step(), log.steps(),
            log.loss(), log.stepsPerSecond());
      }
    };
  }

  static String table(Case c, List<Row> rows, double baseline, int n) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s (%s → %s): sliced W2 to %d fresh data points as a multiple of the "
        + "data-data distance %.4f%n%n", c.id(), c.source(), c.target(), n, baseline));
    b.append("| method | straightness S | cost / exact OT − 1 | Euler 1 | 2 | 4 | 8 | 100 | ≤ 1.5× of 100-step at | train s |\n");
    b.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      int k = r.stepsToGoal();
      b.append(String.format(Locale.ROOT, "| %s | %.4f | %.1e | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.0f |%n",
          r.method(), r.report().straightness(), r.report().transportCost() / r.report().otCost() - 1, r.ratio(1),
          r.ratio(2), r.ratio(4), r.ratio(8), r.ratio(100), k == 0 ? "> 4 steps" : k + " step" + (k > 1 ? "s" : ""),
          r.seconds()));
    }
    return b.toString();
  }

  private static String json(Case c, List<Row> rows, double baseline) {
    StringBuilder b = new StringBuilder();
    b.append('"').append(c.id()).append("\":{\"baseline_swd\":").append(baseline).append(",\"methods\":{");
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (i > 0) {
        b.append(',');
      }
      b.append('"').append(r.method()).append("\":{\"straightness\":").append(r.report().straightness())
          .append(",\"transport_cost\":").append(r.report().transportCost()).append(",\"ot_cost\":")
          .append(r.report().otCost()).append(",\"swd\":{");
      for (int j = 0; j < r.report().euler().size(); j++) {
        TransportReport.EulerRow e = r.report().euler().get(j);
        b.append(j > 0 ? "," : "").append('"').append(e.steps()).append("\":").append(e.slicedW2());
      }
      b.append("},\"train_seconds\":").append(r.seconds()).append('}');
    }
    return b.append("}}").toString();
  }

  private static double[] host(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("flow")) {
        continue;
      }
      if (!a.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: bin/bench flow [--steps N] [--batch B] [--hidden H] [--blocks K] "
            + "[--pairs P] [--reflow-steps N] [--n N] [--cases moons,checkerboard] [--out DIR]; bad argument '" + a + "'");
      }
      o.put(a.substring(2), args[++i]);
    }
    return o;
  }
}
