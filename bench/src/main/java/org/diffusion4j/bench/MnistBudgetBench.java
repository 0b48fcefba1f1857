package org.diffusion4j.bench;

import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.Training;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.ClassBalance;
import org.diffusion4j.train.eval.FeatureStatistics;
import org.diffusion4j.train.eval.FrechetDistance;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.loop.Checkpoint;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * The MNIST budget benchmark: the README's MNIST U-Net at half its width (base 16 channels: at a budget of
 * minutes on a CPU, more steps of a smaller network win — the README's grid) trained by the project's
 * {@code Trainer} for a wall-clock budget (EDM objective, Karras et al. 2022; class-conditional on the digit labels
 * by default), then N digits sampled with the EMA weights (EDM Algorithm 2 by default, on the Karras grid; sample i
 * asks for digit i mod 10) and scored in the shipped MNIST classifier's feature space:
 * the Fréchet distance to the test set's features (Heusel et al. 2017's FID form with this project's
 * classifier in place of Inception) and the fraction of samples classified with confidence ≥ 0.9. The
 * PyTorch twin ({@code bench/src/main/python/mnist_budget.py}: the same network, objective, optimiser,
 * schedule, clipping, EMA, batch and threads, trained for the same budget on the same IDX images, the
 * same sampler on the same σ grid) runs after ours, never at the same time; its samples are scored by the
 * same code. A side whose {@code samples.npy} exists is reused, so an interrupted run resumes where it
 * stopped (an unfinished training restarts).
 *
 * <pre>
 * bin/bench mnist [--minutes 20] [--threads 2] [--n 10000] [--sampler edm|heun --steps 18]
 *                 [--churn S_churn[,S_tmin,S_tmax,S_noise]]
 *                 [--config key=v,…] [--guidance w] [--data DIR] [--out DIR] [--only ours|twin]
 * </pre>
 *
 * {@code --sampler} is {@code edm} (the default: EDM Algorithm 2, stochastic Heun with churn; {@code --churn}
 * gives S_churn and optionally S_tmin, S_tmax, S_noise, default {@value SamplerChoice#DEFAULT_CHURN}) or
 * {@code heun} (EDM Algorithm 1): the two the twin implements too, so that both sides' samples come from the
 * same sampler.
 *
 * {@code --config} overrides the training knobs: {@code base} (16), {@code mult} (1-2-2), {@code blocks}
 * (1), {@code attention} (7), {@code dropout} (0), {@code batch} (64), {@code lr} (2e-3), {@code warmup}
 * (100), {@code schedule} (cosine), {@code ema} (0.995), {@code clip} (1), {@code classes} (0; 10 trains on the
 * digit labels with a learned null label, each label dropped to it with probability {@code labeldrop}, 0.1, Ho
 * &amp; Salimans 2022; sample i then asks for digit i mod 10, with classifier-free guidance when
 * {@code --guidance w} ≠ 1, both sides alike, and the report adds the fraction classified as asked).
 * {@code schedule=cosine} decays
 * the learning rate after warm-up by a half cosine in the fraction of the budget spent, reaching 0 when the
 * budget ends ({@link org.diffusion4j.train.loop.LrSchedule#at(long, double)}); the twin applies the same rule
 * to its own clock.
 */
public final class MnistBudgetBench {
  /** Samples shown per side: 8×8, or 10×10 for a class-conditional network (column j = digit j). */
  private static final int SHOWN = 64;
  private static final int SHOWN_CONDITIONAL = 100;
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  /** The training knobs both sides share. */
  record Knobs(int base, int[] mult, int blocks, int[] attention, double dropout, int batch, double lr, long warmup,
      String schedule, double ema, double clip, int classes, double labelDrop) {
    static final Map<String, String> DEFAULTS = Map.ofEntries(Map.entry("base", "16"), Map.entry("mult", "1-2-2"),
        Map.entry("blocks", "1"), Map.entry("attention", "7"), Map.entry("dropout", "0"), Map.entry("batch", "64"),
        Map.entry("lr", "2e-3"), Map.entry("warmup", "100"), Map.entry("schedule", "cosine"),
        Map.entry("ema", "0.995"), Map.entry("clip", "1"), Map.entry("classes", "10"), Map.entry("labeldrop", "0.1"));

    Knobs {
      if (!schedule.equals("constant") && !schedule.equals("cosine")) {
        throw new IllegalArgumentException("--config schedule=" + schedule + ": accepted constant, cosine");
      }
      if (classes != 0 && classes != 10) {
        throw new IllegalArgumentException("--config classes=" + classes + ": accepted 0 (unconditional) and 10 "
            + "(conditional on MNIST's digit labels)");
      }
      if (!(labelDrop >= 0 && labelDrop < 1)) {
        throw new IllegalArgumentException("--config labeldrop=" + labelDrop + ": a probability in [0, 1)");
      }
    }

    static Knobs parse(String spec) {
      Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
      if (spec != null && !spec.isBlank()) {
        for (String kv : spec.split(",")) {
          String[] p = kv.split("=", 2);
          if (p.length != 2 || !DEFAULTS.containsKey(p[0].trim())) {
            throw new IllegalArgumentException("--config entry '" + kv + "' is not key=value with a key among "
                + new java.util.TreeSet<>(DEFAULTS.keySet()));
          }
          v.put(p[0].trim(), p[1].trim());
        }
      }
      return new Knobs(Integer.parseInt(v.get("base")), ints(v.get("mult")), Integer.parseInt(v.get("blocks")),
          ints(v.get("attention")), Double.parseDouble(v.get("dropout")), Integer.parseInt(v.get("batch")),
          Double.parseDouble(v.get("lr")), Long.parseLong(v.get("warmup")), v.get("schedule"),
          Double.parseDouble(v.get("ema")), Double.parseDouble(v.get("clip")), Integer.parseInt(v.get("classes")),
          Double.parseDouble(v.get("labeldrop")));
    }

    private static int[] ints(String s) {
      return s.isBlank() ? new int[0] : Arrays.stream(s.split("-")).mapToInt(Integer::parseInt).toArray();
    }

    private static String join(int[] a, String sep) {
      return String.join(sep, Arrays.stream(a).mapToObj(Integer::toString).toArray(String[]::new));
    }

    UNetConfig network() {
      return new UNetConfig(1, 28, base, mult, blocks, attention, dropout, classes);
    }

    /** The twin's command-line flags for the same knobs. */
    List<String> twinFlags() {
      return List.of("--base", "" + base, "--mult", join(mult, ","), "--blocks", "" + blocks, "--attention",
          join(attention, ","), "--dropout", "" + dropout, "--batch", "" + batch, "--lr", "" + lr, "--warmup",
          "" + warmup, "--schedule", schedule, "--ema", "" + ema, "--clip", "" + clip, "--classes", "" + classes,
          "--label-dropout", "" + labelDrop);
    }

    String describe() {
      return String.format(Locale.ROOT, "U-Net base %d, multipliers %s, %d block(s)/level, attention at %s, dropout %s; "
          + "batch %d, AdamW lr %s (warm-up %d, then %s), clip %s, EMA %s", base, join(mult, ","), blocks,
          join(attention, ","), dropout, batch, lr, warmup,
          schedule.equals("cosine") ? "a cosine ending with the budget" : "constant", clip, ema)
          + (classes == 0 ? "" : String.format(Locale.ROOT, "; class-conditional on the digit labels, label dropout %s",
              labelDrop));
    }
  }

  /** One side's result. */
  record Side(String name, long steps, double trainSeconds, double stepsPerSecond, double fd, double confident,
      double meanConfidence, long[] histogram, double balance, long params, String note, Double asRequested) {}

  /**
   * The sampler both sides run: Heun (EDM Algorithm 1) or, with {@code edm}, EDM Algorithm 2's stochastic
   * Heun with churn (Karras et al. 2022, Algorithm 2): γ = min(S_churn/N, √2 − 1) on S_tmin ≤ σ ≤ S_tmax.
   */
  record SamplerChoice(String id, double churn, double tmin, double tmax, double noise) {
    /**
     * The default: churn on 0.05 ≤ σ ≤ 50 with S_noise 1.003, the settings Karras et al. (2022) publish for their
     * ImageNet-64 model's stochastic sampler; any S_churn ≥ 7.5 saturates γ at √2 − 1 on 18 steps. On the session-14 Zen 3
     * checkpoint (2000 samples) it lowers FD 20.4 → 17.3 against heun at the same NFE (README, MNIST budget).
     */
    static final String DEFAULT_CHURN = "40,0.05,50,1.003";

    static SamplerChoice parse(String id, String churn) {
      if (!id.equals("heun") && !id.equals("edm")) {
        throw new IllegalArgumentException("--sampler " + id + ": the PyTorch twin implements heun (EDM Algorithm 1) "
            + "and edm (EDM Algorithm 2, with --churn) only; accepted: heun, edm");
      }
      if (id.equals("heun") && churn == null) {
        return new SamplerChoice(id, 0, 0, Double.POSITIVE_INFINITY, 1);
      }
      if (churn == null) {
        churn = DEFAULT_CHURN;
      }
      if (id.equals("heun")) {
        throw new IllegalArgumentException("--churn " + churn + " needs --sampler edm (heun has no churn)");
      }
      String[] v = churn.split(",");
      if (v.length > 4) {
        throw new IllegalArgumentException("--churn " + churn + ": at most 4 numbers, S_churn,S_tmin,S_tmax,S_noise");
      }
      double[] d = {0, 0.05, 50, 1.003}; // omitted numbers: those of DEFAULT_CHURN
      for (int i = 0; i < v.length; i++) {
        try {
          String t = v[i].trim();
          d[i] = t.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--churn " + churn + ": '" + v[i] + "' is not a number");
        }
      }
      if (!(d[0] >= 0) || !(d[1] >= 0) || !(d[2] >= d[1]) || !(d[3] >= 0 && d[3] <= 10) || Double.isInfinite(d[0])) {
        throw new IllegalArgumentException("--churn " + churn + ": need finite S_churn ≥ 0, 0 ≤ S_tmin ≤ S_tmax, "
            + "S_noise in [0, 10]");
      }
      return new SamplerChoice(id, d[0], d[1], d[2], d[3]);
    }

    /** Our registry's sampler. */
    org.diffusion4j.sampling.Sampler create() {
      return id.equals("heun") ? SamplerRegistry.create("heun", Map.of())
          : SamplerRegistry.create("edm", Map.of("s-churn", "" + churn, "s-tmin", "" + tmin, "s-tmax",
              Double.isInfinite(tmax) ? "inf" : "" + tmax, "s-noise", "" + noise));
    }

    /** mnist_budget.py's flags. */
    List<String> twinFlags() {
      return List.of("--sampler", id, "--s-churn", "" + churn, "--s-tmin", "" + tmin, "--s-tmax",
          Double.isInfinite(tmax) ? "inf" : "" + tmax, "--s-noise", "" + noise);
    }

    String describe(int steps) {
      String grid = String.format(Locale.ROOT, "%d steps (NFE %d) on the Karras grid", steps, 2 * steps - 1);
      return id.equals("heun") ? "heun " + grid
          : String.format(Locale.ROOT, "edm (stochastic Heun, S_churn %s, S_tmin %s, S_tmax %s, S_noise %s) %s",
              fmt(churn), fmt(tmin), fmt(tmax), fmt(noise), grid);
    }

    private static String fmt(double v) {
      return Double.isInfinite(v) ? "∞" : v == Math.rint(v) ? "" + (long) v : "" + v;
    }
  }

  private MnistBudgetBench() {}

  /** The command line, checked before anything runs. */
  record Options(double minutes, int threads, int n, int steps, Path data, Knobs knobs, String only,
      SamplerChoice sampler, double guidance, Path out) {
    static Options parse(String[] args) {
      Map<String, String> o = options(args);
      double minutes = number(o, "minutes", "20");
      int threads = (int) number(o, "threads", "2");
      int n = (int) number(o, "n", "10000");
      int steps = (int) number(o, "steps", "18");
      if (!(minutes > 0) || Double.isInfinite(minutes)) {
        throw new IllegalArgumentException("--minutes must be a finite number > 0, got " + minutes);
      }
      if (threads < 1 || n < 1 || steps < 1) {
        throw new IllegalArgumentException("--threads, --n and --steps must be >= 1, got " + threads + ", " + n + ", "
            + steps);
      }
      String only = o.getOrDefault("only", "both");
      if (!List.of("both", "ours", "twin").contains(only)) {
        throw new IllegalArgumentException("--only " + only + "; accepted: both, ours, twin");
      }
      Knobs knobs = Knobs.parse(o.get("config"));
      double guidance = number(o, "guidance", "1");
      if (o.containsKey("guidance") && knobs.classes() == 0) {
        throw new IllegalArgumentException("--guidance " + o.get("guidance") + " needs a class-conditional network "
            + "(--config classes=10)");
      }
      if (!Double.isFinite(guidance)) {
        throw new IllegalArgumentException("--guidance must be finite, got " + o.get("guidance"));
      }
      return new Options(minutes, threads, n, steps, Path.of(o.getOrDefault("data", "../shared/data/mnist")),
          knobs, only, SamplerChoice.parse(o.getOrDefault("sampler", "edm"), o.get("churn")), guidance,
          Path.of(o.getOrDefault("out", "bench-mnist")));
    }

    private static double number(Map<String, String> o, String key, String def) {
      String v = o.getOrDefault(key, def);
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + key + " " + v + " is not a number");
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Options opt;
    try {
      opt = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bin/bench mnist: " + e.getMessage());
      System.exit(2);
      return;
    }
    double minutes = opt.minutes();
    int threads = opt.threads();
    int n = opt.n();
    int steps = opt.steps();
    Path data = opt.data();
    Knobs k = opt.knobs();
    String only = opt.only();
    SamplerChoice sc = opt.sampler();
    double w = opt.guidance();
    Path out = opt.out();
    Files.createDirectories(out);
    ai.djl.engine.Engine.getInstance(); // loads the native library before the thread count is set
    JniUtils.setNumThreads(threads);
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), steps);
    double[] sigmas = new double[grid.steps() + 1];
    for (int i = 0; i < sigmas.length; i++) {
      sigmas[i] = grid.sigma(i);
    }
    DataSource train = DataSources.parse("mnist:" + data);
    double sigmaData = Training.measureStd(train);
    System.out.printf(Locale.ROOT, "MNIST budget: %.4g min per side on %d thread(s), %d samples, %s%s, σ_data %s%n"
        + "%s%nout: %s%n", minutes, threads, n, sc.describe(steps), guidanceText(k, w), sigmaData, k.describe(),
        out.toAbsolutePath());

    long t0 = System.nanoTime();
    if (!only.equals("twin")) {
      ours(out.resolve("ours"), data, minutes, n, sc, w, grid, sigmaData, k);
    }
    if (!only.equals("ours")) {
      twin(out.resolve("twin"), data, minutes, threads, n, sigmas, sc, w, sigmaData, k);
    }
    report(out, minutes, threads, n, steps, sc, w, k, data);
    System.out.printf(Locale.ROOT, "total wall time of this invocation: %.1f s%n", (System.nanoTime() - t0) / 1e9);
  }

  /** ", sample i of class i mod 10, guidance w …" for a class-conditional network, else "". */
  static String guidanceText(Knobs k, double w) {
    return k.classes() == 0 ? "" : String.format(Locale.ROOT, ", sample i of digit i mod 10, %s", w == 1
        ? "conditional (guidance w 1)" : "classifier-free guidance w " + w);
  }

  /** The digit sample i asks for: i mod 10, so that every batch of 100 holds ten of each. */
  static long[] requestedLabels(int n) {
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i % 10;
    }
    return labels;
  }

  private static void ours(Path dir, Path data, double minutes, int n, SamplerChoice sc, double w, Grid grid,
      double sigmaData, Knobs k) throws IOException {
    Path samples = dir.resolve("samples.npy");
    if (Files.exists(samples)) {
      System.out.println("ours: reusing " + samples);
      return;
    }
    Path run = dir.resolve("run");
    Path trainJson = dir.resolve("train.json");
    if (!Files.exists(trainJson)) {
      if (Files.exists(run)) {
        System.out.println("ours: an unfinished training in " + run + ": starting it again");
        deleteTree(run);
      }
      Files.createDirectories(dir);
      Training t = Training.on("mnist:" + data).objective("edm").network(k.network()).sigmaData(sigmaData)
          .steps(100_000_000L).batch(k.batch()).lr(k.lr()).warmup(k.warmup()).lrSchedule(k.schedule()).clip(k.clip())
          .ema(k.ema()).seed(0).logEvery(10).checkpointEvery(Integer.MAX_VALUE)
          .timeBudget(Duration.ofNanos((long) (minutes * 60e9)));
      if (k.classes() > 0) {
        t.classConditional(true).labelDropout(k.labelDrop());
      }
      long[] reached = new long[1];
      t.listener(new org.diffusion4j.train.loop.Trainer.Listener() {
        long nextPrint = System.nanoTime();

        @Override
        public void onLog(org.diffusion4j.train.loop.Trainer.StepLog log) {
          if (System.nanoTime() >= nextPrint) {
            System.out.printf(Locale.ROOT, "ours: step %d, %.0f s, loss %.4f%n", log.step(), log.seconds(), log.loss());
            nextPrint = System.nanoTime() + 30_000_000_000L;
          }
        }
      });
      long start = System.nanoTime();
      org.diffusion4j.train.loop.Trainer[] trainer = new org.diffusion4j.train.loop.Trainer[1];
      t.run(t.plan(), run, tr -> trainer[0] = tr).close();
      double wall = (System.nanoTime() - start) / 1e9;
      reached[0] = Checkpoint.load(run).step();
      JsonObject j = new JsonObject();
      j.addProperty("steps", reached[0]);
      // The loop's own clock where a log line gave it; the budget itself bounds it.
      j.addProperty("train_seconds", trainer[0].lastRunTime().toNanos() / 1e9);
      j.addProperty("budget_spent", trainer[0].budgetSpent());
      j.addProperty("wall_seconds_with_setup", wall);
      j.addProperty("params", params(run));
      j.addProperty("final_loss", lastLoss(run));
      AtomicFiles.write(trainJson, GSON.toJson(j).getBytes(StandardCharsets.UTF_8));
      System.out.printf(Locale.ROOT, "ours: %d steps, budget spent: %s (%.1f s with setup)%n", reached[0],
          trainer[0].budgetSpent(), wall);
    }
    try (TrainedModel m = TrainedModel.load(run, true)) {
      long s0 = System.nanoTime();
      // Progress every 30 s: 10 000 digits take minutes (578 s on a 2-core Zen 3).
      long total = (long) Math.ceil(n / 100.0) * grid.steps();
      java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicLong nextPrint = new java.util.concurrent.atomic.AtomicLong(s0 + 30_000_000_000L);
      org.diffusion4j.denoiser.Denoiser model = k.classes() == 0 || w == 1 ? m.denoiser()
          : new org.diffusion4j.guidance.ClassifierFreeGuidance(m.denoiser(), w);
      Sampling s = Sampling.of(model, m.config().sampleShape());
      if (k.classes() > 0) {
        s.conditioning(org.diffusion4j.denoiser.Conditioning.ofLabels(requestedLabels(n)));
      }
      Sampling.Result r = s.sampler(sc.create()).grid(grid).seeds(1, n).batch(100)
          .dtype(ai.djl.ndarray.types.DataType.FLOAT32).listener(info -> {
            long d = done.incrementAndGet();
            long now = System.nanoTime();
            long due = nextPrint.get();
            if (now >= due && nextPrint.compareAndSet(due, now + 30_000_000_000L)) {
              double sec = (now - s0) / 1e9;
              System.out.printf(Locale.ROOT, "ours: sampling, %d of %d batch steps (%.0f %%), %.0f s, about %.0f s left%n",
                  d, total, 100.0 * d / total, sec, sec * (total - d) / d);
            }
          }).run();
      double sec = (System.nanoTime() - s0) / 1e9;
      System.out.printf(Locale.ROOT, "ours: %d samples in %.1f s (NFE %s)%n", n, sec, r.nfeText());
      JsonObject j = JsonParser.parseString(Files.readString(trainJson)).getAsJsonObject();
      j.addProperty("sample_seconds", sec);
      AtomicFiles.write(trainJson, GSON.toJson(j).getBytes(StandardCharsets.UTF_8));
      AtomicFiles.write(samples, Npy.encode(r.samples(), new long[] {n, 1, 28, 28}, true));
    }
  }

  private static void twin(Path dir, Path data, double minutes, int threads, int n, double[] sigmas,
      SamplerChoice sc, double w, double sigmaData, Knobs k) throws IOException, InterruptedException {
    Path samples = dir.resolve("samples.npy");
    if (Files.exists(samples)) {
      System.out.println("twin: reusing " + samples);
      return;
    }
    if (!Files.isExecutable(Path.of(TorchTwin.PYTHON))) {
      System.out.println("twin: no " + TorchTwin.PYTHON + " (install Debian's python3-torch): ours only");
      return;
    }
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(List.of(TorchTwin.PYTHON, script().toString(), "--idx", data.toString(),
        "--minutes", "" + minutes, "--threads", "" + threads, "--n", "" + n, "--sigma-data", "" + sigmaData,
        "--sigmas", String.join(",", Arrays.stream(sigmas).mapToObj(Double::toString).toArray(String[]::new)),
        "--out", dir.toString()));
    cmd.addAll(k.twinFlags());
    cmd.addAll(sc.twinFlags());
    cmd.addAll(List.of("--guidance", "" + w));
    if (Files.exists(dir.resolve("twin.json")) && Files.exists(dir.resolve("twin-ema.pt"))) {
      // a finished training without samples (e.g. a new --sampler on an earlier run): sample only, as ours does
      System.out.println("twin: reusing the training in " + dir + ", sampling only");
      cmd.add("--sample-only");
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    // The twin waits as its U-Net trains fastest (TorchTwin.unetWaiting), whatever the JVM side was given.
    TorchTwin.twinEnvironment(pb, threads, TorchTwin.unetWaiting());
    System.out.println("twin: " + TorchTwin.unetWaiting() + " " + String.join(" ", cmd));
    int code = pb.start().waitFor();
    if (code != 0 || !Files.exists(samples)) {
      throw new IllegalStateException("the PyTorch twin failed (exit code " + code + ", no " + samples + ")");
    }
  }

  /** mnist_budget.py, next to torch_bench.py. */
  static Path script() {
    Path s = TorchTwin.script().resolveSibling("mnist_budget.py");
    if (!Files.isRegularFile(s)) {
      throw new IllegalStateException("mnist_budget.py not found at " + s);
    }
    return s;
  }

  private static long params(Path run) throws IOException {
    long total = 0;
    for (var t : Checkpoint.readWeights(run, false).values()) {
      total += t.size();
    }
    return total;
  }

  private static double lastLoss(Path run) throws IOException {
    Path m = run.resolve("metrics.jsonl");
    if (!Files.exists(m)) {
      return Double.NaN;
    }
    List<String> lines = Files.readAllLines(m, StandardCharsets.UTF_8);
    return lines.isEmpty() ? Double.NaN
        : JsonParser.parseString(lines.get(lines.size() - 1)).getAsJsonObject().get("loss").getAsDouble();
  }

  private static void report(Path out, double minutes, int threads, int n, int steps, SamplerChoice sc, double w,
      Knobs k, Path data)
      throws IOException {
    List<Side> sides = new ArrayList<>();
    List<double[]> shown = new ArrayList<>();
    String blas = null;
    try (MnistClassifier clf = MnistClassifier.shipped()) {
      DataSource test = DataSources.parse("mnist:" + data + ":test");
      float[] ref = test.first((int) test.size(), 0).x();
      FeatureStatistics refStats = new FeatureStatistics(128).add(clf.apply(ref).features());
      for (String name : new String[] {"ours", "twin"}) {
        Path dir = out.resolve(name);
        Path file = dir.resolve("samples.npy");
        if (!Files.exists(file)) {
          continue;
        }
        double[] x = Npy.read(file).data();
        for (int i = 0; i < x.length; i++) {
          x[i] = Math.max(-1, Math.min(1, x[i]));
        }
        int count = x.length / 784;
        MnistClassifier.Output f = clf.apply(x);
        double fd = FrechetDistance.of(new FeatureStatistics(128).add(f.features()), refStats);
        ClassBalance cb = ClassBalance.of(f.probabilities(), 10);
        long sure = 0;
        long right = 0;
        for (int i = 0; i < count; i++) {
          double best = 0;
          for (int c = 0; c < 10; c++) {
            best = Math.max(best, f.probabilities()[i * 10 + c]);
          }
          sure += best >= 0.9 ? 1 : 0;
          right += f.label(i) == i % 10 ? 1 : 0;
        }
        JsonObject j = JsonParser.parseString(Files.readString(dir.resolve(name.equals("ours") ? "train.json"
            : "twin.json"))).getAsJsonObject();
        long st = j.get("steps").getAsLong();
        double sec = j.get("train_seconds").getAsDouble();
        String note = name.equals("ours") ? "Diffusion4J (DJL, PyTorch 2.7.1 natives)"
            : "PyTorch " + j.get("torch").getAsString() + ", BLAS " + j.get("blas").getAsString();
        if (name.equals("twin")) {
          blas = j.get("blas").getAsString();
        }
        sides.add(new Side(name, st, sec, st / sec, fd, sure / (double) count, cb.confidence(), cb.histogram(),
            cb.balance(), j.get("params").getAsLong(), note, k.classes() == 0 ? null : (Double) (right / (double) count)));
        shown.add(Arrays.copyOf(x, Math.min(count, k.classes() > 0 ? SHOWN_CONDITIONAL : SHOWN) * 784));
      }
    }
    if (sides.isEmpty()) {
      System.out.println("nothing to report yet");
      return;
    }
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "MNIST budget: %.4g min of training per side on %d thread(s), then %d samples, "
        + "%s, EMA weights; FD in the shipped MNIST classifier's features vs "
        + "the %s test images; confident = max class probability ≥ 0.9%s.%n%s.%n%n", minutes, threads, n,
        sc.describe(steps) + guidanceText(k, w), "10 000",
        k.classes() == 0 ? "" : "; as asked = classified as the digit requested", k.describe()));
    boolean cond = k.classes() > 0;
    md.append("| side | parameters | steps | steps/s | FD | confident ≥ 0.9 | mean confidence | class balance | "
        + (cond ? "as asked | " : "") + "histogram 0–9 |\n|---|---|---|---|---|---|---|---|---|" + (cond ? "---|" : "")
        + "\n");
    for (Side s : sides) {
      md.append(String.format(Locale.ROOT, "| %s | %,d | %d | %.3f | %.2f | %.1f %% | %.3f | %.3f | %s%s |%n",
          s.name().equals("ours") ? "Diffusion4J" : "PyTorch twin", s.params(), s.steps(), s.stepsPerSecond(), s.fd(),
          100 * s.confident(), s.meanConfidence(), s.balance(),
          cond ? String.format(Locale.ROOT, "%.1f %% | ", 100 * s.asRequested()) : "", Arrays.toString(s.histogram())));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("minutes", minutes);
    json.put("threads", threads);
    json.put("n", n);
    json.put("sampler", sc.describe(steps));
    json.put("classes", k.classes());
    json.put("guidance", w);
    json.put("steps", steps);
    json.put("config", k.describe());
    json.put("sides", sides);
    if (sides.size() == 2) {
      Side a = sides.get(0);
      Side b = sides.get(1);
      md.append(String.format(Locale.ROOT, "| ours/PyTorch | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %s|%n",
          a.params() / (double) b.params(), a.steps() / (double) b.steps(), a.stepsPerSecond() / b.stepsPerSecond(),
          a.fd() / b.fd(), a.confident() / b.confident(), a.meanConfidence() / b.meanConfidence(),
          a.balance() / b.balance(), cond ? String.format(Locale.ROOT, "%.3f | ", a.asRequested() / b.asRequested())
              : ""));
      json.put("ratios", Map.of("steps", a.steps() / (double) b.steps(), "steps_per_s",
          a.stepsPerSecond() / b.stepsPerSecond(), "fd", a.fd() / b.fd(), "confident", a.confident() / b.confident()));
    }
    Side ours = sides.get(0).name().equals("ours") ? sides.get(0) : null;
    Side twin = sides.get(sides.size() - 1).name().equals("twin") ? sides.get(sides.size() - 1) : null;
    md.append('\n');
    if (ours != null) {
      md.append(String.format(Locale.ROOT, "Goal ≥ 90 %% of our samples confident: %.1f %% — %s.%n", 100 * ours.confident(),
          ours.confident() >= 0.9 ? "met" : "NOT met"));
      json.put("goal_confident_met", ours.confident() >= 0.9);
    }
    if (ours != null && twin != null) {
      md.append(String.format(Locale.ROOT, "Goal FD ≤ the twin's: %.2f vs %.2f — %s.%n", ours.fd(), twin.fd(),
          ours.fd() <= twin.fd() ? "met" : "NOT met"));
      json.put("goal_fd_met", ours.fd() <= twin.fd());
    }
    if (blas != null) {
      md.append("PyTorch twin BLAS: ").append(blas).append('\n');
      json.put("twin_blas", blas);
      if (blas.contains("reference")) {
        md.append("WARNING: the twin's PyTorch uses netlib's reference BLAS, several times slower than OpenBLAS: "
            + "its steps/s flatter us (sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu).\n");
      }
    }
    Path png = out.resolve("mnist-budget.png");
    AtomicFiles.write(png, DensityPlot.png(picture(sides, shown, k.classes() > 0 ? 10 : 8)));
    md.append("\n![samples](mnist-budget.png)\n");
    AtomicFiles.write(out.resolve("mnist-budget.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    AtomicFiles.write(out.resolve("mnist-budget.json"), GSON.toJson(json).getBytes(StandardCharsets.UTF_8));
    System.out.println();
    System.out.print(md);
    System.out.println("wrote " + out.resolve("mnist-budget.md") + ", mnist-budget.json, " + png);
  }

  /**
   * The first samples of each side in a grid of {@code columns} (10 for a conditional network: column j asked for
   * digit j), side by side under their names.
   */
  private static BufferedImage picture(List<Side> sides, List<double[]> shown, int columns) {
    List<BufferedImage> grids = new ArrayList<>();
    for (double[] x : shown) {
      grids.add(ImageGrid.grid(x, x.length / 784, 1, 28, 28, 2, columns));
    }
    int head = 22;
    int w = 0;
    int h = 0;
    for (BufferedImage g : grids) {
      w += g.getWidth() + 10;
      h = Math.max(h, g.getHeight());
    }
    BufferedImage img = new BufferedImage(w + 10, h + head + 10, BufferedImage.TYPE_INT_RGB);
    Graphics2D g2 = img.createGraphics();
    g2.setColor(Color.WHITE);
    g2.fillRect(0, 0, img.getWidth(), img.getHeight());
    g2.setColor(Color.BLACK);
    g2.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    int x = 10;
    for (int i = 0; i < grids.size(); i++) {
      Side s = sides.get(i);
      g2.drawString(String.format(Locale.ROOT, "%s: %d steps, FD %.1f, %.0f%% ≥0.9",
          s.name().equals("ours") ? "Diffusion4J" : "PyTorch twin", s.steps(), s.fd(), 100 * s.confident()), x, 16);
      g2.drawImage(grids.get(i), x, head, null);
      x += grids.get(i).getWidth() + 10;
    }
    g2.dispose();
    return img;
  }

  private static final List<String> KEYS = List.of("minutes", "threads", "n", "sampler", "churn", "guidance", "steps",
      "data", "config", "only", "out");

  /** {@code --key value} pairs; an unknown key or a missing value is an error naming it. */
  static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      String key = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (key == null || !KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown option '" + args[i] + "'; accepted: --"
            + String.join(", --", KEYS));
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      o.put(key, args[i + 1]);
    }
    return o;
  }

  private static void deleteTree(Path p) throws IOException {
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
