package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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
import org.diffusion4j.cli.plot.LogLogPlot;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.sampling.NfeBudget;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerLab;
import org.diffusion4j.sampling.SamplerParams;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.GridOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.eval.MnistClassifier;
import org.diffusion4j.train.nn.MnistCnn;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code d4j lab}: error against NFE of several samplers on one model — a table, JSON and a log–log plot,
 * one line per sampler (and grid).
 */
@Command(name = "lab", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Compare samplers at equal cost: each sampler runs at the most grid steps whose NFE fits each "
        + "budget, from the same seeds, and its final samples are scored.",
        "--metric rms (default): RMS distance of each sample to the exact PF-ODE from the same noise — a mixture's "
            + "closed-form flow (tolerance 1e-11), or for a trained run a tight-tolerance RK45 solve of the same "
            + "network (--reference-tol). Deterministic samplers only.",
        "--metric swd|mmd|energy|kl|fd|kid: a distribution distance to reference data (as d4j eval; fd/kid of "
            + "[1, 28, 28] images in the shipped MNIST classifier's features); stochastic samplers allowed.",
        "Samplers take parameters after colons: lms:order=2, unipc:order=3:variant=bh1."},
    footer = {"", "Examples:",
        "  d4j lab --model examples/gmm2d.json --samplers euler,heun,dpmpp-2m,unipc --nfe 3,5,10,20,50 \\",
        "      --plot lab.png --json lab.json",
        "  d4j lab --model runs/moons --samplers heun,dpmpp-2m --grids karras,exponential --n 500 --plot lab.png",
        "  d4j lab --model runs/mnist --metric fd --samplers heun,dpmpp-2m,euler-ancestral --nfe 10,20,50 --n 1000"})
public final class LabCommand implements Callable<Integer> {
  private static final List<String> METRICS = List.of("rms", "swd", "mmd", "energy", "kl", "fd", "kid");

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE|RUN",
      description = "A gaussian-mixture JSON file or a trained run directory.")
  Path model;

  @Option(names = "--samplers", defaultValue = "euler,heun,dpm2,lms,dpmpp-2m,unipc", paramLabel = "LIST",
      description = "Comma-separated samplers, each id[:k=v…] (default: ${DEFAULT-VALUE}).")
  String samplers;

  @Option(names = "--nfe", defaultValue = "3,5,10,20,50", split = ",", paramLabel = "N[,N…]",
      description = "NFE budgets (default: ${DEFAULT-VALUE}).")
  List<Integer> budgets;

  @Option(names = "--grids", defaultValue = "karras", paramLabel = "LIST",
      description = "Comma-separated grids (default: ${DEFAULT-VALUE}; see d4j grid).")
  String grids;

  @Option(names = "--metric", defaultValue = "rms", description = "rms, swd, mmd, energy, kl, fd or kid "
      + "(default: ${DEFAULT-VALUE}).")
  String metric;

  @Option(names = "--n", paramLabel = "N", description = "Samples per run, >= 2 (default 1000; 200 for images).")
  Integer n;

  @Option(names = "--data", paramLabel = "SPEC",
      description = "Reference data of distribution metrics (default: a run's training data; a mixture's samples).")
  String data;

  @Option(names = "--reference-tol", defaultValue = "1e-6",
      description = "rtol = atol of a run's RK45 reference (default: ${DEFAULT-VALUE}).")
  double referenceTol;

  @Option(names = "--process", paramLabel = "ID", description = "Process of a mixture model (default edm).")
  String process;

  @Option(names = "--weights", defaultValue = "ema", description = "Run weights: ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  @Option(names = "--seed", defaultValue = "0", description = "First sample seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--batch", paramLabel = "B", description = "Sampling batch (default 1000; 100 for images).")
  Integer batch;

  @Option(names = "--json", paramLabel = "FILE.json", description = "Write the points as JSON.")
  Path json;

  @Option(names = "--plot", paramLabel = "FILE.png", description = "Write the log-log plot of error vs NFE.")
  Path plot;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    String met = metric.toLowerCase(Locale.ROOT);
    if (!METRICS.contains(met)) {
      throw new IllegalArgumentException("unknown --metric '" + metric + "'; accepted: " + String.join(", ", METRICS));
    }
    if (json != null) {
      SampleCommand.kind(json, "--json", "json");
    }
    if (plot != null) {
      SampleCommand.kind(plot, "--plot", "png");
    }
    if (!(referenceTol >= 1e-13 && referenceTol <= 1e-2)) {
      throw new IllegalArgumentException("--reference-tol must lie in [1e-13, 1e-2], got " + referenceTol);
    }
    int[] nfe = budgets.stream().mapToInt(Integer::intValue).distinct().sorted().toArray();
    for (int b : nfe) {
      if (b < 1) {
        throw new IllegalArgumentException("--nfe budgets must be >= 1, got " + b);
      }
    }
    List<SamplerLab.Entry> entries = parseSamplers(samplers, met.equals("rms"));
    List<SamplerLab.NamedGrid> gridList = new ArrayList<>();
    for (String g : grids.split(",")) {
      String name = g.trim();
      gridList.add(new SamplerLab.NamedGrid(name, GridOptions.of(name).spec()));
    }
    try (EvalModel m = EvalModel.open(model, process, weights)) {
      m.requireDenoiser("d4j lab", false);
      int count = n != null ? n : m.images() ? 200 : 1000;
      if (count < 2) {
        throw new IllegalArgumentException("--n must be >= 2, got " + count);
      }
      int b = batch != null ? batch : m.images() ? 100 : 1000;
      if (b < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + b);
      }
      long[] seeds = Sampling.seedRange(seed, seed + count - 1);
      Denoiser den = m.mixture != null ? m.mixture.denoiser() : m.denoiser;
      String reference;
      SamplerLab.Metric score;
      MnistClassifier clf = null;
      try {
        if (met.equals("rms")) {
          if (m.mixture != null) {
            score = SamplerLab.exact(m.mixture, seeds);
            reference = "exact PF-ODE of the mixture (Dormand-Prince, tolerance 1e-11)";
          } else {
            score = SamplerLab.solver(den, m.shape, seeds, b, referenceTol);
            reference = "RK45 solve of the same model, rtol = atol = " + Format.num(referenceTol);
          }
        } else {
          if (met.equals("kl") && m.mixture == null) {
            throw new IllegalArgumentException("metric kl needs an exact density: use a gaussian-mixture model");
          }
          boolean features = m.images() && (met.equals("fd") || met.equals("kid"));
          if (features && !Arrays.equals(m.shape, new long[] {1, 28, 28})) {
            throw new IllegalArgumentException("fd and kid of images use the MNIST classifier, which takes [1, 28, 28] "
                + "images; this model's are " + Arrays.toString(m.shape));
          }
          String dataSpec = data != null ? data : m.defaultData() != null ? m.defaultData() : "gmm:" + model;
          DataSource src = DataSources.parse(dataSpec);
          if (!Arrays.equals(src.sampleShape(), m.shape)) {
            throw new IllegalArgumentException("--data " + dataSpec + " has samples of shape "
                + Arrays.toString(src.sampleShape()) + " but the model's are " + Arrays.toString(m.shape));
          }
          DataSource.HostBatch rb = src.first(count, seed + 1_000_003L);
          double[] ref = new double[rb.x().length];
          for (int i = 0; i < ref.length; i++) {
            ref[i] = rb.x()[i];
          }
          if (ref.length / m.dim < count) {
            throw new IllegalArgumentException("--data " + dataSpec + " has " + ref.length / m.dim
                + " samples, fewer than --n " + count);
          }
          clf = features ? MnistClassifier.shipped() : null;
          int fdim = features ? MnistCnn.FEATURES : m.dim;
          double[] refFeat = features ? QualityMetrics.referenceFeatures(clf, rb.x(), null) : ref;
          QualityMetrics q = new QualityMetrics(Set.of(met), m.dim, fdim, m.mixture, ref, refFeat, 10,
              Math.min(1000, count), count);
          MnistClassifier c = clf;
          score = (grid, x) -> (Double) q.of(x, c != null ? c.apply(x).features() : x, null).get(met);
          reference = dataSpec + " (" + count + " points" + (features ? ", MNIST classifier features" : "") + ")";
        }
        List<SamplerLab.Point> points = SamplerLab.run(den, m.shape, m.process, entries, gridList, nfe, seeds, b, score,
            null);
        String title = label(met) + " vs NFE: " + model.getFileName() + ", " + count + " samples";
        if (json != null) {
          AtomicFiles.write(json, (json(met, reference, count, points) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (plot != null) {
          AtomicFiles.write(plot, ModelPreview.png(LogLogPlot.render(title, "NFE (denoiser evaluations)",
              label(met) + (met.equals("rms") ? " to the reference" : ""), series(points, gridList.size() > 1))));
        }
        w.println("model      " + m.describe(model));
        w.println("metric     " + label(met) + " against " + reference);
        w.println("samples    " + count + ", seeds " + seed + "-" + (seed + count - 1) + "; each cell: error (NFE spent "
            + "when below the budget)");
        printTable(w, points, nfe);
        if (json != null) {
          w.println("wrote " + json);
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

  /** Parses {@code id[:k=v…],…}. */
  static List<SamplerLab.Entry> parseSamplers(String list, boolean pathwise) {
    List<SamplerLab.Entry> out = new ArrayList<>();
    Set<String> seen = new LinkedHashSet<>();
    for (String item : list.split(",")) {
      String t = item.trim();
      if (t.isEmpty()) {
        throw new IllegalArgumentException("--samplers has an empty entry: '" + list + "'");
      }
      String[] parts = t.split(":");
      Map<String, String> params = SamplerParams.parseAssignments(Arrays.asList(parts).subList(1, parts.length));
      Sampler s = SamplerRegistry.create(parts[0], params);
      if (!NfeBudget.fixedCost(s)) {
        throw new IllegalArgumentException(s.id() + " is adaptive (its NFE depends on the model, not a budget); the lab "
            + "compares fixed-step samplers");
      }
      if (pathwise && s.stochastic()) {
        throw new IllegalArgumentException(t + " draws fresh noise, so its samples do not follow the PF-ODE path the "
            + "rms metric compares with; use a distribution metric (--metric swd, mmd, energy, kl, fd or kid)");
      }
      if (!seen.add(t)) {
        throw new IllegalArgumentException("--samplers lists " + t + " twice");
      }
      out.add(new SamplerLab.Entry(t, s));
    }
    return out;
  }

  private static String label(String met) {
    return switch (met) {
      case "rms" -> "RMS error";
      case "swd" -> "sliced Wasserstein";
      case "mmd" -> "MMD²";
      case "energy" -> "energy distance";
      case "kl" -> "KL (k-NN)";
      case "fd" -> "Fréchet distance";
      case "kid" -> "KID ×1e3";
      default -> met;
    };
  }

  /** One series per (sampler, grid), its points at the distinct NFE spent. */
  static List<LogLogPlot.Series> series(List<SamplerLab.Point> points, boolean withGrid) {
    Map<String, List<SamplerLab.Point>> by = new LinkedHashMap<>();
    for (SamplerLab.Point p : points) {
      if (p.ran()) {
        by.computeIfAbsent(p.sampler() + (withGrid ? " · " + p.grid() : ""), k -> new ArrayList<>()).add(p);
      }
    }
    List<LogLogPlot.Series> out = new ArrayList<>();
    for (Map.Entry<String, List<SamplerLab.Point>> e : by.entrySet()) {
      List<SamplerLab.Point> ps = new ArrayList<>();
      for (SamplerLab.Point p : e.getValue()) {
        if (ps.isEmpty() || ps.get(ps.size() - 1).nfe() != p.nfe()) {
          ps.add(p);
        }
      }
      out.add(new LogLogPlot.Series(e.getKey(), ps.stream().mapToDouble(SamplerLab.Point::nfe).toArray(),
          ps.stream().mapToDouble(SamplerLab.Point::error).toArray()));
    }
    return out;
  }

  private static void printTable(PrintWriter w, List<SamplerLab.Point> points, int[] nfe) {
    int first = 24;
    for (SamplerLab.Point p : points) {
      first = Math.max(first, p.sampler().length() + p.grid().length() + 4);
    }
    StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-" + first + "s", "sampler (grid)  NFE →"));
    for (int b : nfe) {
      h.append(String.format(Locale.ROOT, "%15d", b));
    }
    w.println(h);
    for (int i = 0; i < points.size(); i += nfe.length) {
      SamplerLab.Point p0 = points.get(i);
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-" + first + "s", p0.sampler() + " ("
          + p0.grid() + ")"));
      for (int j = 0; j < nfe.length; j++) {
        SamplerLab.Point p = points.get(i + j);
        String cell = !p.ran() ? "—" : !Double.isFinite(p.error()) ? "diverged" : Format.sci(p.error()) + (p.nfe() < p.budget() ? " (" + p.nfe() + ")" : "");
        line.append(String.format(Locale.ROOT, "%15s", cell));
      }
      w.println(line);
    }
  }

  private String json(String met, String reference, int count, List<SamplerLab.Point> points) {
    StringBuilder sb = new StringBuilder("{\"model\": ").append(quote(model.toString()))
        .append(", \"metric\": ").append(quote(met))
        .append(", \"reference\": ").append(quote(reference))
        .append(", \"n\": ").append(count)
        .append(", \"seed\": ").append(seed)
        .append(", \"points\": [");
    for (int i = 0; i < points.size(); i++) {
      SamplerLab.Point p = points.get(i);
      sb.append(i == 0 ? "" : ", ").append("{\"sampler\": ").append(quote(p.sampler()))
          .append(", \"grid\": ").append(quote(p.grid()))
          .append(", \"nfe_budget\": ").append(p.budget())
          .append(", \"steps\": ").append(p.steps())
          .append(", \"nfe\": ").append(p.nfe())
          .append(", \"error\": ").append(Double.isFinite(p.error()) ? Format.json(p.error()) : "null")
          .append(", \"diverged\": ").append(p.error() == Double.POSITIVE_INFINITY)
          .append(", \"seconds\": ").append(Format.json(p.seconds())).append('}');
    }
    return sb.append("]}").toString();
  }

  private static String quote(String s) {
    return new com.google.gson.JsonPrimitive(s).toString();
  }
}
