package org.diffusion4j.cli;

import ai.djl.ndarray.types.DataType;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.diffusion4j.analytic.ExactFlow;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.cli.plot.DensityPlot;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.process.Edm;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.SeededNoise;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.analytic.SampleStats;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code d4j demo}: a handful of samplers on the embedded 2-D Gaussian mixture at 5/10/20/50 steps of
 * the EDM Karras grid (σ 80 → 0.002 → 0), with their error against the exact PF-ODE; writes
 * {@code demo.png} and {@code report.md}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Compare a handful of samplers on the embedded 2-D mixture; write demo.png and report.md.",
        "Runs euler, heun and (where registered) dpmpp-2m, ddim, unipc, rk45 and euler-ancestral on the embedded "
            + "2-D Gaussian mixture (8 components on a circle) at 5, 10, 20 and 50 steps of the EDM Karras grid, "
            + "and compares them with the exact probability-flow ODE.",
        "Writes DIR/demo.png (data density, samples of a few samplers, exact PF-ODE paths) and DIR/report.md "
            + "(the error-vs-NFE table), and prints the table. Needs no downloads."},
    footer = {"", "Examples:", "  d4j demo", "  d4j demo --out /tmp/demo --samples 2000"})
public final class DemoCommand implements Callable<Integer> {
  /** The samplers the demo runs, in table order, when registered. */
  static final List<String> SAMPLERS =
      List.of("euler", "heun", "dpmpp-2m", "ddim", "unipc", "rk45", "euler-ancestral");
  static final int[] STEPS = {5, 10, 20, 50};

  @Spec
  CommandSpec commandSpec;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = "d4j-out/demo",
      description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--samples", paramLabel = "N", defaultValue = "500",
      description = "Samples per exact-model run, seeds 0..N-1, >= 2 (default: ${DEFAULT-VALUE}).")
  int samples;

  @Option(names = "--train-steps", paramLabel = "N", defaultValue = "3000",
      description = "Training steps of the two-moons model (default: ${DEFAULT-VALUE}).")
  long trainSteps;

  @Option(names = "--train-samples", paramLabel = "N", defaultValue = "5000",
      description = "Points each sampler draws from the trained model (default: ${DEFAULT-VALUE}).")
  int trainSamples;

  @Option(names = "--hidden", paramLabel = "N", defaultValue = "128",
      description = "Width of the demo's MLP (default: ${DEFAULT-VALUE}).")
  int hidden;

  @Option(names = "--blocks", paramLabel = "N", defaultValue = "3",
      description = "Residual blocks of the demo's MLP (default: ${DEFAULT-VALUE}).")
  int blocks;

  @Option(names = "--no-train", description = "Only the exact-model part (a few seconds).")
  boolean noTrain;

  @Option(names = "--quiet", description = "No progress bar.")
  boolean quiet;

  @Override
  public Integer call() throws IOException {
    if (samples < 2 || samples > 100_000) {
      throw new IllegalArgumentException("--samples must lie in [2, 100000], got " + samples);
    }
    if (trainSteps < 1 || trainSamples < 10) {
      throw new IllegalArgumentException("--train-steps must be >= 1 and --train-samples >= 10");
    }
    PrintWriter w = commandSpec.commandLine().getOut();
    String trained = noTrain ? ""
        : TrainingDemo.run(out, trainSteps, trainSamples, hidden, blocks, w, commandSpec.commandLine().getErr(), quiet);
    if (!noTrain) {
      w.println();
    }
    GaussianMixture gm = GaussianMixture.demo2d();
    long[] seeds = new long[samples];
    for (int i = 0; i < samples; i++) {
      seeds[i] = i;
    }
    List<SamplerInfo> samplers = new ArrayList<>();
    for (String id : SAMPLERS) {
      SamplerRegistry.all().stream().filter(s -> s.id().equals(id)).findFirst().ifPresent(samplers::add);
    }
    GridSpec karras = GridSpec.karras();
    // Every grid below starts at the same σ_max, so one exact reference serves them all.
    Grid first = karras.build(Edm.DEFAULT, STEPS[0]);
    double[] prior = Sampling.prior(first, seeds, 2);
    double[] reference = ExactCheck.reference(gm, first, prior, samples);

    long start = System.nanoTime();
    Map<String, Cell[]> table = new LinkedHashMap<>();
    Map<String, double[]> shown = new LinkedHashMap<>();
    for (SamplerInfo info : samplers) {
      boolean stochastic = info.create(Map.of()).stochastic();
      Cell[] row = new Cell[STEPS.length];
      for (int k = 0; k < STEPS.length; k++) {
        Grid g = karras.build(Edm.DEFAULT, STEPS[k]);
        Sampling.Result r;
        try {
          r = Sampling.of(gm.denoiser(), 2).sampler(info.create(Map.of())).grid(g).seeds(seeds).run();
        } catch (RuntimeException e) {
          // One broken sampler must not hide the others: report it and go on.
          commandSpec.commandLine().getErr().printf("d4j: warning: %s at %d steps failed: %s%n", info.id(), STEPS[k],
              e.getMessage());
          row[k] = new Cell(Double.NaN, "failed");
          continue;
        }
        double err = stochastic
            ? Math.abs(SampleStats.average(gm.logDensity(r.samples(), 0))
                - SampleStats.average(gm.logDensity(gm.sample(seeds, 0), 0)))
            : SampleStats.rms(r.samples(), reference);
        row[k] = new Cell(err, r.nfeText());
        if (STEPS[k] == (stochastic ? 20 : 10) && shown.size() < 4) {
          shown.put(String.format(Locale.ROOT, "%s · %d steps · NFE %s", info.id(), STEPS[k], r.nfeText()), r.samples());
        }
      }
      table.put(info.id() + (stochastic ? " (SDE)" : ""), row);
    }
    String markdown = markdownTable(table);
    w.println("Samplers on the embedded 2-D mixture, EDM Karras grid (ρ 7, σ 80 → 0.002 → 0), " + samples
        + " samples:");
    w.println(markdown);
    w.printf(Locale.ROOT, "Cells: RMS error against the exact PF-ODE (NFE); SDE rows: |Δ mean log p| (NFE). "
        + "%.1f s.%n", (System.nanoTime() - start) / 1e9);

    byte[] png = DensityPlot.png(picture(gm, seeds, shown, Sampling.prior(first, seeds, 2), first.sigma(0)));
    AtomicFiles.write(out.resolve("exact.png"), png);
    AtomicFiles.write(out.resolve("report.md"), ("# Diffusion4J demo\n\n" + trained + report(markdown, samples))
        .getBytes(StandardCharsets.UTF_8));
    w.println("wrote " + (noTrain ? "" : out.resolve("demo.png") + ", ") + out.resolve("exact.png") + " and "
        + out.resolve("report.md"));
    return 0;
  }

  /** One cell of the table: the error and the NFE it cost. */
  record Cell(double error, String nfe) {}

  static String markdownTable(Map<String, Cell[]> table) {
    StringBuilder sb = new StringBuilder("| sampler |");
    for (int s : STEPS) {
      sb.append(' ').append(s).append(" steps |");
    }
    sb.append("\n|---|");
    sb.append("---|".repeat(STEPS.length)).append('\n');
    for (Map.Entry<String, Cell[]> e : table.entrySet()) {
      sb.append("| ").append(e.getKey()).append(" |");
      for (Cell c : e.getValue()) {
        sb.append(' ').append(Double.isNaN(c.error()) ? "—" : Format.sci(c.error())).append(" (").append(c.nfe())
            .append(") |");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static BufferedImage picture(GaussianMixture gm, long[] seeds, Map<String, double[]> shown,
      double[] prior, double sigmaMax) {
    double[] eps = new double[prior.length];
    for (int i = 0; i < eps.length; i++) {
      eps[i] = prior[i] / sigmaMax;
    }
    double[] view = DensityPlot.defaultView(gm, 0);
    DensityPlot plot = new DensityPlot(gm, 0, view);
    List<BufferedImage> panels = new ArrayList<>();
    panels.add(plot.panel("data: log p and exact samples", gm.sample(seeds, 0), new Color(120, 220, 255), null,
        null));
    for (Map.Entry<String, double[]> e : shown.entrySet()) {
      panels.add(plot.panel(e.getKey(), e.getValue(), Color.WHITE, null, null));
    }
    List<double[]> paths = paths(gm, eps, 24);
    double[] ends = new double[2 * paths.size()];
    for (int k = 0; k < paths.size(); k++) {
      double[] p = paths.get(k);
      ends[2 * k] = p[p.length - 2];
      ends[2 * k + 1] = p[p.length - 1];
    }
    panels.add(plot.panel("exact PF-ODE paths in x/√(1+σ²)", ends, Color.WHITE, paths, new Color(255, 255, 255,
        180)));
    return DensityPlot.grid(panels, 3);
  }

  /** Exact PF-ODE paths of the first {@code count} prior draws, in VP coordinates x̂/√(1+σ²). */
  private static List<double[]> paths(GaussianMixture gm, double[] eps, int count) {
    Grid g = new GridSpec.Karras(Double.NaN, Double.NaN, 3).build(Edm.DEFAULT, 80);
    int n = Math.min(count, eps.length / 2);
    double[] x = new double[2 * n];
    for (int i = 0; i < x.length; i++) {
      x[i] = g.sigma(0) * eps[i];
    }
    double[][] path = new double[n][2 * g.size()];
    for (int p = 0; p < g.size(); p++) {
      if (p > 0) {
        x = ExactFlow.solve(gm, x, g.sigma(p - 1), g.sigma(p), 1e-8);
      }
      double c = 1 / Math.sqrt(1 + g.sigma(p) * g.sigma(p));
      for (int k = 0; k < n; k++) {
        path[k][2 * p] = c * x[2 * k];
        path[k][2 * p + 1] = c * x[2 * k + 1];
      }
    }
    return List.of(path);
  }

  private static String report(String markdown, int samples) {
    return "## 2. Samplers on an exact 2-D Gaussian mixture\n\n"
        + "Model: the embedded mixture of 8 Gaussians on a circle of radius 2 (stds 0.15 and 0.3, weights 1:2), "
        + "whose denoiser D(x; σ) is exact. Grid: EDM Karras (ρ = 7, σ from 80 to 0.002, then 0) on the EDM "
        + "process. " + samples + " samples, seeds 0.." + (samples - 1) + ", float64.\n\n"
        + "Each cell: RMS error of the final samples against the exact probability-flow ODE solution from the "
        + "same initial noise (adaptive Dormand–Prince at tolerance 1e-11), and in parentheses the number of "
        + "denoiser evaluations (NFE). Rows marked (SDE) are stochastic samplers, whose paths do not follow the "
        + "ODE: their cell is |mean log p(samples) − mean log p(exact data samples)| instead.\n\n"
        + markdown + "\n![exact model](exact.png)\n\n"
        + "Panels: the data density log p with exact samples; samples of a few samplers; exact PF-ODE paths "
        + "from σ = 80 to 0, drawn in the variance-preserving coordinates x/√(1+σ²) so that they start as "
        + "N(0, I) draws.\n";
  }
}
