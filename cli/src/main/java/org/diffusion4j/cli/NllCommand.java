package org.diffusion4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.likelihood.HostDenoiser;
import org.diffusion4j.likelihood.ScorePathDensity;
import java.util.concurrent.Callable;
import org.diffusion4j.io.Npy;
import org.diffusion4j.likelihood.BitsPerDim;
import org.diffusion4j.likelihood.Decoder;
import org.diffusion4j.likelihood.Divergence;
import org.diffusion4j.likelihood.Estimate;
import org.diffusion4j.likelihood.PfOdeLikelihood;
import org.diffusion4j.likelihood.PriorDensity;
import org.diffusion4j.likelihood.TraceModel;
import org.diffusion4j.likelihood.VariationalBound;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code d4j nll}: the negative log-likelihood of data under a model through its probability-flow ODE
 * (instantaneous change of variables), in nats and bits per dimension, optionally with a variational
 * bound.
 */
@Command(name = "nll", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Negative log-likelihood of data under a model, through the probability-flow ODE with the "
        + "instantaneous change of variables (adaptive RK45 in ln σ from --sigma-start to the process's σ_max, "
        + "prior N(0, σ_max² I)).",
        "Divergence: exact (closed form for a mixture, one input gradient per dimension for a network; the default "
            + "up to 16 dimensions) or Hutchinson's estimator with K probes (the default, K = 1, for images).",
        "8-bit image data are dequantised uniformly and bits/dim include the +7 offset of the [-1, 1] scale, as "
            + "Score-SDE reports them. --json prints {\"nll_nats\":…,\"bpd\":…,\"stderr\":…,\"n\":…,\"nfe\":…}."},
    footer = {"", "Examples:",
        "  d4j nll --model examples/gmm2d.json --data gmm:examples/gmm2d.json --n 1000",
        "  d4j nll --model runs/moons --data two-moons --bound vdm --json",
        "  d4j nll --model runs/mnist --data mnist:../shared/data/mnist:test --hutchinson 1 --n 100",
        "  d4j nll --model runs/moons --density-map moons-logp.png --map-sigma 0.05"})
public final class NllCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "FILE|RUN",
      description = "A gaussian-mixture JSON file or a trained run directory.")
  Path model;

  @Option(names = "--data", paramLabel = "SPEC",
      description = "The points to evaluate: any data set spelling (finite sets: their first N samples; generators: "
          + "N draws from --seed). Default: a run's training data; a mixture's own samples (gmm:MODEL).")
  String data;

  static final class DivergenceChoice {
    @Option(names = "--exact", description = "Exact divergence.")
    boolean exact;

    @Option(names = "--hutchinson", paramLabel = "K", description = "Hutchinson's estimator with K >= 1 probes.")
    Integer probes;
  }

  @ArgGroup(exclusive = true)
  DivergenceChoice divergence = new DivergenceChoice();

  @Option(names = "--probe", paramLabel = "KIND", defaultValue = "rademacher",
      description = "Hutchinson probes: rademacher or gaussian (default: ${DEFAULT-VALUE}).")
  String probe;

  @Option(names = "--rtol", defaultValue = "1e-5", description = "ODE relative tolerance (default: ${DEFAULT-VALUE}).")
  double rtol;

  @Option(names = "--atol", defaultValue = "1e-5", description = "ODE absolute tolerance (default: ${DEFAULT-VALUE}).")
  double atol;

  @Option(names = "--n", paramLabel = "N", defaultValue = "1000",
      description = "Number of points, >= 1 (default: ${DEFAULT-VALUE}).")
  int n;

  @Option(names = "--batch", paramLabel = "B", description = "Points per ODE solve (default 1000; 50 for images).")
  Integer batch;

  @Option(names = "--sigma-start", paramLabel = "σ",
      description = "σ at the data end of the ODE, > 0 (default: the process's σ_min, e.g. 0.002 for edm).")
  Double sigmaStart;

  @Option(names = "--process", paramLabel = "ID",
      description = "The process of a mixture model, fixing σ_min and σ_max (default edm; a run has its own).")
  String process;

  @Option(names = "--prior", defaultValue = "gaussian",
      description = "Density at σ_max: gaussian, N(0, σ_max² I) as the samplers draw, or exact (a mixture's own p_σmax, "
          + "leaving only the solver's error) (default: ${DEFAULT-VALUE}).")
  String prior;

  @Option(names = "--weights", defaultValue = "ema", description = "Run weights: ema or raw (default: ${DEFAULT-VALUE}).")
  String weights;

  @Option(names = "--bound", defaultValue = "none",
      description = "Also a variational bound: none, vdm (continuous-time, Kingma et al. 2021) or ddpm (the T-term "
          + "bound of Ho et al. 2020, --process ddpm only) (default: ${DEFAULT-VALUE}).")
  String bound;

  @Option(names = "--bound-draws", defaultValue = "16",
      description = "Noise levels per point of the vdm bound's estimate (default: ${DEFAULT-VALUE}).")
  int boundDraws;

  @Option(names = "--seed", defaultValue = "0",
      description = "Seed of probes, dequantisation, bound noise and generated data (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--per-sample", paramLabel = "FILE.npy", description = "Write the per-point NLL (nats) to a .npy, "
      + "rewritten after every batch with the points done so far (settings and progress in FILE.npy.progress.json).")
  Path perSample;

  @Option(names = "--resume", description = "Continue the run saved in --per-sample FILE.npy (killed, or finished with "
      + "a smaller --n) from its last finished batch; the settings must be the same. Gives the values an "
      + "uninterrupted run gives.")
  boolean resume;

  @Option(names = "--json", description = "Print one JSON object instead of the table.")
  boolean json;

  @Option(names = "--density-map", paramLabel = "FILE.png",
      description = "Instead of the NLL: draw log p_σ of a 2-D model recovered from its score by integrating it along "
          + "straight paths from a reference point, next to the exact log p_σ (mixtures) and the path dependence "
          + "|straight − axis-aligned path| (zero for a conservative score).")
  Path densityMap;

  @Option(names = "--map-sigma", paramLabel = "σ", defaultValue = "0.05",
      description = "σ of the score integrated by --density-map, > 0 (default: ${DEFAULT-VALUE}).")
  double mapSigma;

  @Option(names = "--map-reference", paramLabel = "X,Y", split = ",",
      description = "Reference point of --density-map (default: the centre of the view).")
  double[] mapReference;

  @Option(names = "--map-resolution", paramLabel = "N", defaultValue = "96",
      description = "Grid points per side of --density-map, in [8, 360] (default: ${DEFAULT-VALUE}).")
  int mapResolution;

  @Override
  public Integer call() throws IOException {
    PrintWriter w = spec.commandLine().getOut();
    if (n < 1) {
      throw new IllegalArgumentException("--n must be >= 1, got " + n);
    }
    if (perSample != null) {
      SampleCommand.kind(perSample, "--per-sample", "npy");
    }
    if (!bound.equals("none") && !bound.equals("vdm") && !bound.equals("ddpm")) {
      throw new IllegalArgumentException("unknown --bound '" + bound + "'; accepted: none, vdm, ddpm");
    }
    Divergence.Probe kind = Divergence.Probe.parse(probe);
    if (densityMap != null) {
      SampleCommand.kind(densityMap, "--density-map", "png");
      try (EvalModel m = EvalModel.open(model, process, weights)) {
        m.requireDenoiser("d4j nll", true);
        return densityMap(m, w);
      }
    }
    try (EvalModel m = EvalModel.open(model, process, weights)) {
      m.requireDenoiser("d4j nll", true);
      String spec = data != null ? data : m.defaultData() != null ? m.defaultData() : "gmm:" + model;
      DataSource src = DataSources.parse(spec);
      if (!Arrays.equals(src.sampleShape(), m.shape)) {
        throw new IllegalArgumentException("--data " + spec + " has samples of shape " + Arrays.toString(src.sampleShape())
            + " but the model's are " + Arrays.toString(m.shape));
      }
      DataSource.HostBatch hb = src.first(n, seed);
      int count = hb.shape()[0] > Integer.MAX_VALUE ? n : (int) hb.shape()[0];
      double[] x = new double[hb.x().length];
      for (int i = 0; i < x.length; i++) {
        x[i] = hb.x()[i];
      }
      int d = m.dim;
      Divergence method = divergence.probes != null ? new Divergence.Hutchinson(divergence.probes, kind, seed)
          : divergence.exact || d <= 16 ? Divergence.exact() : new Divergence.Hutchinson(1, kind, seed);
      double s0 = sigmaStart != null ? sigmaStart : m.process.sigmaMin();
      double sMax = m.process.sigmaMax();
      PriorDensity pd = switch (prior) {
        case "gaussian" -> PriorDensity.gaussian();
        case "exact" -> {
          if (m.mixture == null) {
            throw new IllegalArgumentException("--prior exact needs a mixture model; a run has no closed-form p_σmax");
          }
          yield PriorDensity.exact(m.mixture);
        }
        default -> throw new IllegalArgumentException("unknown --prior '" + prior + "'; accepted: gaussian, exact");
      };
      PfOdeLikelihood lik = new PfOdeLikelihood(s0, sMax, rtol, atol, pd);
      int b = batch != null ? batch : m.images() ? 50 : 1000;
      if (b < 1) {
        throw new IllegalArgumentException("--batch must be >= 1, got " + b);
      }
      if (bound.equals("ddpm") && !(m.process instanceof DiscreteDdpm)) {
        throw new IllegalArgumentException("--bound ddpm needs a discrete-time process (ddpm), this model's is "
            + m.process.id() + "; use --bound vdm");
      }
      TraceModel trace = m.trace(method, b);
      if (resume && perSample == null) {
        throw new IllegalArgumentException("--resume continues the run saved in --per-sample FILE.npy; give it");
      }
      if (resume && !bound.equals("none")) {
        throw new IllegalArgumentException("--resume does not keep --bound values; run the bound separately");
      }
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("model", model.toAbsolutePath().normalize().toString());
      settings.put("data", spec);
      settings.put("divergence", describe(method));
      settings.put("rtol", Double.toString(rtol));
      settings.put("atol", Double.toString(atol));
      settings.put("sigma_start", Double.toString(s0));
      settings.put("prior", prior);
      settings.put("weights", weights);
      settings.put("batch", Integer.toString(b));
      settings.put("seed", Long.toString(seed));
      NllProgress progress = perSample != null && bound.equals("none")
          ? NllProgress.open(perSample, settings, count, resume) : null;
      double[] nll = progress != null ? progress.values() : new double[count];
      double[] boundValues = bound.equals("none") ? null : new double[count];
      long nfe = 0;
      int solves = 0;
      double resumedSeconds = 0;
      int start = 0;
      if (progress != null) {
        start = progress.done();
        nfe = progress.nfe();
        solves = progress.solves();
        resumedSeconds = progress.seconds();
        if (start > 0) {
          this.spec.commandLine().getErr().println("nll: resuming at point " + start + " of " + count + " from "
              + perSample);
        }
      }
      ProgressLine line = new ProgressLine(this.spec.commandLine().getErr());
      long t0 = System.nanoTime();
      for (int from = start; from < count; from += b) {
        int k = Math.min(b, count - from);
        long[] rows = new long[k];
        for (int i = 0; i < k; i++) {
          rows[i] = from + i;
        }
        double[] xb = Arrays.copyOfRange(x, from * d, (from + k) * d);
        double[] y = m.images() ? BitsPerDim.dequantize(xb, d, rows, seed) : xb;
        long tb = System.nanoTime();
        PfOdeLikelihood.Result r;
        try {
          r = lik.logLikelihood(trace, y, rows);
        } catch (org.diffusion4j.lifecycle.StoppedException stop) {
          if (progress == null) {
            throw stop;
          }
          // The finished batches are saved: say so, and how to go on.
          throw new org.diffusion4j.lifecycle.StoppedException(org.diffusion4j.lifecycle.StopRequest.reason()
              + ": the likelihood computation stopped at point " + from + " of " + count + "; " + (from == 0
              ? "no point had finished, nothing was written" : "the " + from + " finished points are saved in "
              + perSample + "; continue with the same command and --resume"), -1, null);
        }
        double[] batchNll = new double[k];
        for (int i = 0; i < k; i++) {
          batchNll[i] = -r.logLikelihood()[i];
        }
        nfe += r.nfe();
        solves++;
        if (progress != null) {
          progress.add(batchNll, r.nfe(), (System.nanoTime() - tb) / 1e9);
        } else {
          System.arraycopy(batchNll, 0, nll, from, k);
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        int doneNow = from + k;
        double eta = elapsed / (doneNow - start) * (count - doneNow);
        if (elapsed >= (line.tty() ? 2 : 10)) {
          line.show(String.format(java.util.Locale.ROOT, "nll: %d/%d points, %d ODE evaluations in the last batch, "
              + "%s elapsed, about %s left", doneNow, count, r.nfe(), ProgressLine.clock(elapsed),
              ProgressLine.clock(eta)), (double) doneNow / count);
        }
        if (boundValues != null) {
          Decoder dec = m.images() ? Decoder.DISCRETIZED_8BIT : Decoder.GAUSSIAN;
          VariationalBound.Terms t = bound.equals("ddpm")
              ? VariationalBound.ddpm(m.host(), (DiscreteDdpm) m.process, xb, rows, dec, seed)
              : VariationalBound.continuous(m.host(), xb, rows, s0, sMax, boundDraws, dec, s0, seed);
          System.arraycopy(t.total(), 0, boundValues, from, k);
        }
      }
      line.done();
      double seconds = resumedSeconds + (System.nanoTime() - t0) / 1e9;
      Estimate e = Estimate.of(nll);
      double bpd = m.images() ? BitsPerDim.eightBit(e.mean(), d) : BitsPerDim.continuous(e.mean(), d);
      double bpdErr = BitsPerDim.continuous(e.stderr(), d);
      double meanNfe = (double) nfe / solves;
      Double exact = null;
      if (m.mixture != null) {
        exact = -Estimate.of(m.mixture.logDensity(x, 0)).mean();
      }
      Estimate be = boundValues == null ? null : Estimate.of(boundValues);
      if (perSample != null && progress == null) {
        Npy.write(perSample, nll, new long[] {count}, false);
      }
      if (json) {
        StringBuilder sb = new StringBuilder("{");
        sb.append("\"nll_nats\": ").append(Format.json(e.mean()))
            .append(", \"bpd\": ").append(Format.json(bpd))
            .append(", \"stderr\": ").append(Format.json(e.stderr()))
            .append(", \"stderr_bpd\": ").append(Format.json(bpdErr))
            .append(", \"n\": ").append(count)
            .append(", \"nfe\": ").append(Format.json(meanNfe))
            .append(", \"divergence\": \"").append(describe(method)).append('"')
            .append(", \"dims\": ").append(d)
            .append(", \"sigma_start\": ").append(Format.json(s0))
            .append(", \"sigma_max\": ").append(Format.json(sMax))
            .append(", \"seconds\": ").append(Format.json(seconds));
        if (exact != null) {
          sb.append(", \"exact_nll_nats\": ").append(Format.json(exact));
        }
        if (be != null) {
          sb.append(", \"bound\": \"").append(bound).append('"')
              .append(", \"bound_nats\": ").append(Format.json(be.mean()))
              .append(", \"bound_bpd\": ").append(Format.json(BitsPerDim.continuous(be.mean(), d)))
              .append(", \"bound_stderr\": ").append(Format.json(be.stderr()));
        }
        w.println(sb.append('}'));
        return 0;
      }
      w.println("model      " + m.describe(model));
      w.println("data       " + spec + " (" + count + " points" + (m.images() ? ", uniformly dequantised" : "") + ")");
      w.println("ODE        RK45 in ln σ from σ = " + Format.num(s0) + " to " + Format.num(sMax) + ", rtol "
          + Format.num(rtol) + ", atol " + Format.num(atol) + "; divergence " + describe(method));
      w.println("NLL        " + Format.num(e.mean()) + " ± " + Format.num(e.stderr()) + " nats  ("
          + Format.num(bpd) + " ± " + Format.num(bpdErr) + " bits/dim" + (m.images() ? ", 8-bit" : "") + ")");
      if (exact != null) {
        w.println("exact      " + Format.num(exact) + " nats  (closed-form −log p₀ of the same points)");
      }
      if (be != null) {
        w.println("bound      " + Format.num(be.mean()) + " ± " + Format.num(be.stderr()) + " nats  ("
            + Format.num(BitsPerDim.continuous(be.mean(), d)) + " bits/dim" + (m.images() ? " of the 8-bit data" : "")
            + "; " + (bound.equals("ddpm") ? "DDPM T-term" : "continuous VDM") + " bound)");
      }
      w.println("cost       " + Format.num(meanNfe) + " ODE evaluations per batch of " + Math.min(b, count)
          + ", " + String.format(java.util.Locale.ROOT, "%.1f", seconds) + " s");
      return 0;
    }
  }

  /** The LIK-06 picture: log p_σ recovered from the score along paths, with the exact one and the path gap. */
  private int densityMap(EvalModel m, PrintWriter w) throws IOException {
    if (m.dim != 2 || m.shape.length != 1) {
      throw new IllegalArgumentException("--density-map draws 2-D models; this one's samples have shape "
          + Arrays.toString(m.shape));
    }
    if (!(mapSigma > 0) || Double.isInfinite(mapSigma)) {
      throw new IllegalArgumentException("--map-sigma must be finite and > 0, got " + mapSigma);
    }
    if (mapResolution < 8 || mapResolution > 360) {
      throw new IllegalArgumentException("--map-resolution must lie in [8, 360], got " + mapResolution);
    }
    if (mapReference != null && mapReference.length != 2) {
      throw new IllegalArgumentException("--map-reference takes 2 coordinates X,Y, got " + mapReference.length);
    }
    double[] view;
    if (m.mixture != null) {
      view = DensityPlot.defaultView(m.mixture, mapSigma);
    } else {
      String spec = data != null ? data : m.defaultData();
      DataSource.HostBatch hb = DataSources.parse(spec).first(2000, seed);
      double[] pts = new double[hb.x().length];
      for (int i = 0; i < pts.length; i++) {
        pts[i] = hb.x()[i];
      }
      double lo0 = Double.POSITIVE_INFINITY;
      double hi0 = Double.NEGATIVE_INFINITY;
      double lo1 = Double.POSITIVE_INFINITY;
      double hi1 = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < pts.length; i += 2) {
        lo0 = Math.min(lo0, pts[i]);
        hi0 = Math.max(hi0, pts[i]);
        lo1 = Math.min(lo1, pts[i + 1]);
        hi1 = Math.max(hi1, pts[i + 1]);
      }
      double half = 0.6 * Math.max(hi0 - lo0, hi1 - lo1) + 3 * mapSigma;
      double c0 = (lo0 + hi0) / 2;
      double c1 = (lo1 + hi1) / 2;
      view = new double[] {c0 - half, c0 + half, c1 - half, c1 + half};
    }
    double[] ref = mapReference != null ? mapReference.clone()
        : new double[] {(view[0] + view[1]) / 2, (view[2] + view[3]) / 2};
    int res = mapResolution;
    double[] grid = new double[res * res * 2];
    for (int py = 0; py < res; py++) {
      for (int px = 0; px < res; px++) {
        grid[(py * res + px) * 2] = view[0] + (px + 0.5) / res * (view[1] - view[0]);
        grid[(py * res + px) * 2 + 1] = view[3] - (py + 0.5) / res * (view[3] - view[2]);
      }
    }
    long t0 = System.nanoTime();
    HostDenoiser host = m.host();
    int panels = 4;
    double[] straight = ScorePathDensity.straight(host, mapSigma, ref, grid, panels);
    double[] axes = ScorePathDensity.alongAxes(host, mapSigma, ref, grid, panels);
    double seconds = (System.nanoTime() - t0) / 1e9;
    double[] gap = new double[straight.length];
    double gapRms = 0;
    double gapMax = 0;
    for (int i = 0; i < gap.length; i++) {
      gap[i] = Math.abs(straight[i] - axes[i]);
      gapRms += gap[i] * gap[i];
      gapMax = Math.max(gapMax, gap[i]);
    }
    gapRms = Math.sqrt(gapRms / gap.length);
    String s = Format.num(mapSigma);
    List<BufferedImage> panelsOut = new ArrayList<>();
    panelsOut.add(DensityPlot.heat("log p (σ " + s + ") from the score, straight paths", straight, res, 10));
    Double exactRms = null;
    if (m.mixture != null) {
      double[] exact = m.mixture.logDensity(grid, mapSigma);
      double lref = m.mixture.logDensity(ref, mapSigma)[0];
      double e2 = 0;
      for (int i = 0; i < exact.length; i++) {
        double d = straight[i] - (exact[i] - lref);
        e2 += d * d;
      }
      exactRms = Math.sqrt(e2 / exact.length);
      panelsOut.add(DensityPlot.heat("exact log p (σ " + s + ")", exact, res, 10));
    }
    // The path gap on a log scale: brightest at its maximum, 6 decades below darkest.
    double[] lg = new double[gap.length];
    for (int i = 0; i < gap.length; i++) {
      lg[i] = Math.log10(gap[i] + 1e-300);
    }
    panelsOut.add(DensityPlot.heat("path dependence, max " + Format.sci(gapMax) + " nats (log scale)", lg, res, 6));
    org.diffusion4j.io.AtomicFiles.write(densityMap, DensityPlot.png(DensityPlot.row(panelsOut)));
    w.println("model      " + m.describe(model));
    w.println("map        " + res + "×" + res + " points on [" + Format.num(view[0]) + ", " + Format.num(view[1]) + "]×["
        + Format.num(view[2]) + ", " + Format.num(view[3]) + "], score at σ = " + s + ", reference point ("
        + Format.num(ref[0]) + ", " + Format.num(ref[1]) + ")");
    w.println("paths      straight and axis-aligned, " + panels + "×16-point Gauss-Legendre each, "
        + String.format(java.util.Locale.ROOT, "%.1f", seconds) + " s");
    if (exactRms != null) {
      w.println("exact      RMS error of the recovered log p_σ − log p_σ(ref): " + Format.sci(exactRms) + " nats");
    }
    w.println("curl       path dependence RMS " + Format.sci(gapRms) + ", max " + Format.sci(gapMax) + " nats");
    w.println("wrote " + densityMap);
    return 0;
  }

  private static String describe(Divergence m) {
    return m instanceof Divergence.Hutchinson h ? "hutchinson-" + h.probes() + "-" + h.kind().name().toLowerCase(
        java.util.Locale.ROOT) : "exact";
  }
}
