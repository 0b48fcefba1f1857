package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.distill.FlowMapRuns;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.nn.MnistCnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code d4j eval}: sample-quality metrics of a sampler on a model against reference data, for one or
 * several step counts (a quality-vs-NFE table).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Sample N points with a sampler and compare them with N reference points.",
        "Metrics: swd (sliced Wasserstein), w2 (2-Wasserstein: exact optimal transport up to 2000 points, "
            + "entropic OT of 2000-point subsamples beyond), mmd (unbiased RBF MMD², median-heuristic bandwidths ×{¼,½,1,2,4}), energy "
            + "(energy distance), kl (k-NN KL(samples ‖ model) against a mixture's exact density), fd (Fréchet "
            + "distance), kid (kernel distance ×10³), pr (precision, recall, density, coverage, k = 5), classes "
            + "(classifier confidence and class balance).",
        "fd, kid and pr use the features of the shipped MNIST classifier for [1, 28, 28] images (the 'MNIST feature "
            + "distance', not Inception FID) and the raw coordinates otherwise. Reference features of image data are "
            + "cached by content hash."},
    footer = {"", "Examples:",
        "  d4j eval --model examples/gmm2d.json --metrics swd,mmd,energy,kl,fd --n 2000 --sampler heun --steps 5,10,18",
        "  d4j eval --model runs/mnist --data mnist:../shared/data/mnist:test --metrics fd,kid,pr,classes \\",
        "      --n 10000 --sampler dpmpp-2m --steps 10 --out eval.json"})
public final class EvalCommand implements Callable<Integer> {
  private static final List<String> METRICS = List.of("swd", "w2", "mmd", "energy", "kl", "fd", "kid", "pr",
      "classes");

  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE|RUN",
      description = "A gaussian-mixture JSON file or a trained run directory.")
  Path model;

  @Option(names = "--data", paramLabel = "SPEC",
      description = "Reference data (finite sets: their first N; generators: N draws). Default: a run's training data; "
          + "a mixture's exact samples.")
  String data;

  @Option(names = "--metrics", paramLabel = "LIST",
      description = "Comma-separated metrics (default: swd,mmd,energy,fd, plus kl for a mixture; images: fd,kid,pr,classes).")
  String metrics;

  @Option(names = "--n", defaultValue = "1000", description = "Samples and reference points, >= 10 (default: ${DEFAULT-VALUE}).")
  int n;

  @Option(names = "--sampler", description = "Sampler (default heun; a few-step run — consistency, CTM, Mean Flow — "
      + "uses its own flow-map sampler on its few-step grid; see d4j samplers).")
  String sampler;

  @Option(names = "--param", paramLabel = "K=V", description = "Sampler parameter, repeatable.")
  List<String> params = new ArrayList<>();

  @Option(names = "--steps", defaultValue = "18", split = ",", paramLabel = "N[,N…]",
      description = "Grid steps, one or several (default: ${DEFAULT-VALUE}).")
  List<Integer> steps;

  @Option(names = "--grid", description = "Grid (default karras).")
  String grid;

  @Option(names = "--mid", split = ",", paramLabel = "σ[,σ…]",
      description = "Intermediate noise levels of a few-step run's grid, decreasing inside (0, σ_max); they apply to "
          + "the --steps value equal to their count + 1, the other step counts keep the run's own levels.")
  List<Double> mids;

  @Option(names = "--process", paramLabel = "ID", description = "Process of a mixture model (default edm).")
  String process;

  @Option(names = "--weights", defaultValue = "ema", description = "Run weights: ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  @Option(names = "--seed", defaultValue = "0", description = "First sample seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch", paramLabel = "B", description = "Sampling batch (default 1000; 100 for images).")
  Integer batch;

  @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
      description = "Workers sharing the sampling batches: threads on a CPU, one per GPU with --device gpu; the "
          + "metrics do not change (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--kid-subsets", defaultValue = "10", description = "KID subsets (default: ${DEFAULT-VALUE}).")
  int kidSubsets;

  @Option(names = "--kid-size", defaultValue = "1000", description = "KID subset size (default: ${DEFAULT-VALUE}).")
  int kidSize;

  @Option(names = "--pr-n", defaultValue = "2000",
      description = "Points of each set used by pr (k-NN, O(N²)) (default: ${DEFAULT-VALUE}).")
  int prN;

  @Option(names = "--cache", paramLabel = "DIR",
      description = "Cache of reference features (default: ~/.cache/diffusion4j).")
  Path cache;

  @Option(names = "--json", description = "Print JSON instead of the table.")
  boolean json;

  @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the JSON to a file.")
  Path out;

  @Option(names = "--plot", paramLabel = "FILE.png",
      description = "Write a log-log plot of every metric against NFE (one line per metric; several --steps).")
  Path plot;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    if (n < 10) {
      throw new IllegalArgumentException("--n must be >= 10, got " + n);
    }
    if (out != null) {
      SampleCommand.kind(out, "--out", "json");
    }
    if (plot != null) {
      SampleCommand.kind(plot, "--plot", "png");
    }
    for (int s : steps) {
      if (s < 1) {
        throw new IllegalArgumentException("--steps must be >= 1, got " + s);
      }
    }
    Workers.check(workers);
    try (EvalModel m = EvalModel.open(model, process, weights); Workers team = new Workers()) {
      org.diffusion4j.train.loop.RunConfig rc = m.run == null ? null : m.run.config();
      // A few-step run samples with its own flow-map sampler, as d4j sample does.
      boolean flowMap = rc != null && FlowMapRuns.isFlowMap(rc.objective()) && sampler == null;
      if (rc != null && sampler != null && FlowMapRuns.oneTime(rc.objective())) {
        throw new IllegalArgumentException("run " + model + " (objective " + rc.objective() + ") is a consistency model: "
            + "its D(x̂; σ) is the jump to the data, not a denoiser, so --sampler " + sampler + " would take wrong ODE "
            + "steps; omit --sampler to use its own multistep consistency sampler (--steps 1,2,4)");
      }
      if (flowMap && (grid != null || !params.isEmpty())) {
        throw new IllegalArgumentException("--grid and --param do not apply to the few-step run " + model + " (objective "
            + rc.objective() + "), which samples with its own flow-map sampler and grid");
      }
      if (mids != null && !flowMap) {
        throw new IllegalArgumentException("--mid sets the levels of a few-step run's own grid; " + model
            + (rc == null ? " is not a run" : sampler != null ? " is sampled with --sampler " + sampler + " here"
            : " (objective " + rc.objective() + ") is not a few-step model"));
      }
      if (mids != null && !steps.contains(mids.size() + 1)) {
        throw new IllegalArgumentException("--mid has " + mids.size() + " level(s), for a grid of " + (mids.size() + 1)
            + " steps, but --steps is " + steps);
      }
      Sampler smp = flowMap ? FlowMapRuns.sampler(rc)
          : SamplerRegistry.create(sampler == null ? "heun" : sampler, SamplerParams.parseAssignments(params));
      String samplerName = flowMap ? smp.id() : sampler == null ? "heun" : sampler;
      String gridName = flowMap ? "few-step" : grid == null ? "karras" : grid;
      boolean images = m.images();
      if (images && !Arrays.equals(m.shape, new long[] {1, 28, 28})) {
        throw new IllegalArgumentException("image metrics use the MNIST classifier, which takes [1, 28, 28] images; this "
            + "model's are " + Arrays.toString(m.shape));
      }
      Set<String> chosen = parseMetrics(m, images);
      String spec = data != null ? data : m.defaultData() != null ? m.defaultData() : "gmm:" + model;
      DataSource src = DataSources.parse(spec);
      if (!Arrays.equals(src.sampleShape(), m.shape)) {
        throw new IllegalArgumentException("--data " + spec + " has samples of shape " + Arrays.toString(src.sampleShape())
            + " but the model's are " + Arrays.toString(m.shape));
      }
      DataSource.HostBatch rb = src.first(n, seed + 1_000_003L);
      double[] ref = toDouble(rb.x());
      int count = ref.length / m.dim;
      if (count < n) {
        throw new IllegalArgumentException("--data " + spec + " has " + count + " samples, fewer than --n " + n);
      }
      boolean needFeatures = images && (chosen.contains("fd") || chosen.contains("kid") || chosen.contains("pr")
          || chosen.contains("classes"));
      MnistClassifier clf = needFeatures ? MnistClassifier.shipped() : null;
      try {
        int fd = images ? MnistCnn.FEATURES : m.dim;
        double[] refFeat = !needFeatures ? ref : QualityMetrics.referenceFeatures(clf, rb.x(), cache);
        QualityMetrics quality = new QualityMetrics(chosen, m.dim, fd, m.mixture, ref, refFeat, kidSubsets, kidSize, prN);
        Denoiser den = m.mixture != null ? m.mixture.denoiser() : flowMap ? FlowMapRuns.model(m.run) : m.denoiser;
        int b = batch != null ? batch : images ? 100 : 1000;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int st : steps) {
          double[] mid = mids != null && st == mids.size() + 1 ? mids.stream().mapToDouble(Double::doubleValue).toArray()
              : null;
          Grid g = flowMap ? FlowMapRuns.grid(rc, m.process, st, mid) : GridOptions.of(gridName).spec().build(m.process, st);
          Sampling run = Sampling.of(den, m.shape).sampler(smp).grid(g).seeds(seed, seed + n - 1).batch(Math.min(b, n));
          team.apply(run, workers, den, m.run == null ? null : model, !weights.equalsIgnoreCase("raw"), false,
              flowMap ? FlowMapRuns::model : EvalModel::samplingDenoiser);
          double[] x = new double[n * m.dim];
          double[] feat = needFeatures ? new double[n * fd] : null;
          double[] probs = needFeatures ? new double[n * 10] : null;
          int[] nfe = {Integer.MAX_VALUE, 0};
          long t0 = System.nanoTime();
          run.stream(batchOut -> {
            System.arraycopy(batchOut.samples(), 0, x, batchOut.from() * m.dim, batchOut.samples().length);
            nfe[0] = Math.min(nfe[0], batchOut.nfe());
            nfe[1] = Math.max(nfe[1], batchOut.nfe());
            if (clf != null) {
              MnistClassifier.Output o = clf.apply(batchOut.samples());
              System.arraycopy(o.features(), 0, feat, batchOut.from() * fd, o.features().length);
              System.arraycopy(o.probabilities(), 0, probs, batchOut.from() * 10, o.probabilities().length);
            }
          });
          team.close();
          double seconds = (System.nanoTime() - t0) / 1e9;
          double[] f = needFeatures ? feat : x;
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("steps", st);
          r.put("nfe", nfe[1]);
          r.put("sample_seconds", seconds);
          r.putAll(quality.of(x, f, probs));
          rows.add(r);
        }
        String js = json(spec, images, rows, samplerName, gridName);
        if (out != null) {
          AtomicFiles.write(out, (js + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        if (plot != null) {
          AtomicFiles.write(plot, ModelPreview.png(org.diffusion4j.cli.plot.LogLogPlot.render(samplerName + " on " + gridName
              + " grids: quality vs NFE, " + n + " samples", "NFE (denoiser evaluations)", "metric value",
              plotSeries(rows))));
        }
        if (json) {
          w.println(js);
          return 0;
        }
        w.println("model      " + m.describe(model));
        w.println("samples    " + n + " by " + samplerName + " on a " + gridName + " grid, seeds " + seed + "-" + (seed + n - 1));
        w.println("reference  " + spec + " (" + n + " points)");
        w.println("features   " + (images ? "MNIST classifier (128 penultimate activations; fd = MNIST feature distance)"
            : "raw coordinates"));
        printTable(w, rows);
        if (out != null) {
          w.println("wrote " + out);
        }
        if (plot != null) {
          w.println("wrote " + plot);
        }
        return 0;
      } finally {
        if (clf != null) {
          clf.close();
        }
      }
    }
  }

  private Set<String> parseMetrics(EvalModel m, boolean images) {
    String list = metrics != null ? metrics : images ? "fd,kid,pr,classes"
        : m.mixture != null ? "swd,mmd,energy,kl,fd" : "swd,mmd,energy,fd";
    Set<String> s = new LinkedHashSet<>();
    for (String k : list.split(",")) {
      String t = k.trim().toLowerCase(Locale.ROOT);
      if (!METRICS.contains(t)) {
        throw new IllegalArgumentException("unknown metric '" + k + "'; accepted: " + String.join(", ", METRICS));
      }
      if (t.equals("kl") && m.mixture == null) {
        throw new IllegalArgumentException("metric kl needs an exact density: use a gaussian-mixture model");
      }
      if (t.equals("classes") && !images) {
        throw new IllegalArgumentException("metric classes needs MNIST images [1, 28, 28]");
      }
      s.add(t);
    }
    return s;
  }

  private static double[] toDouble(float[] x) {
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      d[i] = x[i];
    }
    return d;
  }

  private String json(String spec, boolean images, List<Map<String, Object>> rows, String samplerName,
      String gridName) {
    StringBuilder sb = new StringBuilder("{\"model\": ").append(quote(model.toString()))
        .append(", \"data\": ").append(quote(spec))
        .append(", \"sampler\": ").append(quote(samplerName))
        .append(", \"grid\": ").append(quote(gridName))
        .append(", \"n\": ").append(n)
        .append(", \"feature_space\": ").append(quote(images ? "mnist-classifier-128" : "raw"))
        .append(", \"results\": [");
    for (int i = 0; i < rows.size(); i++) {
      sb.append(i == 0 ? "{" : ", {");
      int j = 0;
      for (Map.Entry<String, Object> e : rows.get(i).entrySet()) {
        sb.append(j++ == 0 ? "" : ", ").append(quote(e.getKey())).append(": ");
        Object v = e.getValue();
        if (v instanceof long[] h) {
          sb.append(Arrays.toString(h));
        } else if (v instanceof Integer k) {
          sb.append(k);
        } else {
          sb.append(Format.json((Double) v));
        }
      }
      sb.append('}');
    }
    return sb.append("]}").toString();
  }

  /** One series per numeric metric over the rows (NFE on x). */
  private static List<org.diffusion4j.cli.plot.LogLogPlot.Series> plotSeries(List<Map<String, Object>> rows) {
    List<org.diffusion4j.cli.plot.LogLogPlot.Series> out = new ArrayList<>();
    for (String k : rows.get(0).keySet()) {
      if (k.equals("steps") || k.equals("nfe") || k.equals("sample_seconds") || !(rows.get(0).get(k) instanceof Double)) {
        continue;
      }
      List<Map<String, Object>> sorted = new ArrayList<>(rows);
      sorted.sort(java.util.Comparator.comparingInt(r -> (Integer) r.get("nfe")));
      double[] x = new double[rows.size()];
      double[] y = new double[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        x[i] = (Integer) sorted.get(i).get("nfe");
        y[i] = (Double) sorted.get(i).get(k);
      }
      out.add(new org.diffusion4j.cli.plot.LogLogPlot.Series(k, x, y));
    }
    return out;
  }

  private static String quote(String s) {
    return new com.google.gson.JsonPrimitive(s).toString();
  }

  private static void printTable(PrintWriter w, List<Map<String, Object>> rows) {
    List<String> cols = new ArrayList<>();
    for (String k : rows.get(0).keySet()) {
      if (!k.equals("class_histogram") && !k.equals("sample_seconds")) {
        cols.add(k);
      }
    }
    StringBuilder h = new StringBuilder();
    for (String c : cols) {
      h.append(String.format(Locale.ROOT, "%14s", c));
    }
    w.println(h);
    for (Map<String, Object> r : rows) {
      StringBuilder line = new StringBuilder();
      for (String c : cols) {
        Object v = r.get(c);
        line.append(String.format(Locale.ROOT, "%14s", v instanceof Integer k ? k.toString() : Format.num((Double) v)));
      }
      w.println(line);
      if (r.containsKey("class_histogram")) {
        w.println("  classes 0-9: " + Arrays.toString((long[]) r.get("class_histogram")));
      }
    }
  }
}
