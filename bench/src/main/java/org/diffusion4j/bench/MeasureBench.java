package org.diffusion4j.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.cli.D4j;

/**
 * The MNIST measurement benchmark: the NLL in bits/dim of a trained U-Net on the MNIST test images
 * (PF-ODE with Hutchinson's trace estimator, with its NFE and time), and the MNIST feature distance
 * (Fréchet distance in the shipped classifier's features), KID, precision/recall/density/coverage and
 * class balance of samples from heun-18, dpmpp-2m-10 and euler-ancestral-50 against the test set — by
 * running {@code d4j nll} and {@code d4j eval} and gathering their JSON into one table.
 *
 * <p>Usage: {@code bin/bench measure [--model RUN] [--data mnist:DIR] [--nll-n N] [--n N] [--hutchinson K]
 * [--out DIR] [--train-steps S] [--sigma-start σ]} (defaults: the full sizes, 10 000 and 10 000; K = 1; without --model it
 * first trains {@code d4j train --data DATA --steps S} (default 6000) into DIR/run). Everything finished is
 * kept in DIR: the NLL's per-image values after every batch (a later invocation continues them, or extends
 * them to a larger {@code --nll-n}) and each sampler's evaluation, so the full sizes can be reached over
 * several shorter invocations.
 */
public final class MeasureBench {
  /** The samplers of the benchmark and their steps. */
  static final String[][] SAMPLERS = {{"heun", "18"}, {"dpmpp-2m", "10"}, {"euler-ancestral", "50"}};

  private MeasureBench() {}

  public static void main(String[] args) throws IOException {
    String model = null;
    String data = "mnist:../shared/data/mnist";
    int nllN = 10_000;
    int n = 10_000;
    int probes = 1;
    int trainSteps = 6000;
    Path out = Path.of("bench-measure");
    String sigmaStart = null;
    for (int i = 0; i < args.length; i++) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: bin/bench measure [--model RUN] [--data mnist:DIR] [--nll-n N] "
            + "[--n N] [--hutchinson K] [--out DIR] [--train-steps S] [--sigma-start σ]");
      }
      String v = args[++i];
      switch (args[i - 1]) {
        case "--model" -> model = v;
        case "--data" -> data = v;
        case "--nll-n" -> nllN = Integer.parseInt(v);
        case "--n" -> n = Integer.parseInt(v);
        case "--hutchinson" -> probes = Integer.parseInt(v);
        case "--out" -> out = Path.of(v);
        case "--train-steps" -> trainSteps = Integer.parseInt(v);
        case "--sigma-start" -> sigmaStart = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i - 1]);
      }
    }
    Files.createDirectories(out);
    String test = data + ":test";
    List<String> lines = new ArrayList<>();
    if (model == null) {
      model = out.resolve("run").toString();
      run(lines, "train", "--data", data, "--steps", Integer.toString(trainSteps), "--out", model, "--quiet");
    }
    JsonObject report = new JsonObject();
    report.addProperty("model", model);
    report.addProperty("data", test);
    if (nllN > 0) { // --nll-n 0 skips the likelihood
      // Per-image values saved after every batch: a killed or shorter run is continued (or extended to a
      // larger --nll-n) by the next invocation with the same --out.
      Path per = out.resolve("nll-test.npy");
      List<String> a = new ArrayList<>(List.of("nll", "--model", model, "--data", test, "--hutchinson",
          Integer.toString(probes), "--n", Integer.toString(nllN), "--per-sample", per.toString(), "--json"));
      if (Files.exists(org.diffusion4j.cli.NllProgress.sidecar(per))) {
        a.add("--resume");
      }
      if (sigmaStart != null) {
        a.add("--sigma-start");
        a.add(sigmaStart);
      }
      JsonObject nll = JsonParser.parseString(run(lines, a.toArray(new String[0]))).getAsJsonObject();
      report.add("nll", nll);
    }
    JsonArray evals = new JsonArray();
    for (String[] s : SAMPLERS) {
      // A finished evaluation is kept and reused by the next invocation with the same --out and --n.
      Path cached = out.resolve("eval-" + s[0] + "-" + s[1] + "-n" + n + ".json");
      String js;
      if (Files.exists(cached)) {
        js = Files.readString(cached, StandardCharsets.UTF_8);
        System.out.println("reusing " + cached);
        lines.add("# reused " + cached);
      } else {
        js = run(lines, "eval", "--model", model, "--data", test, "--metrics", "fd,kid,pr,classes", "--n",
            Integer.toString(n), "--pr-n", Integer.toString(Math.min(n, 2000)), "--kid-size",
            Integer.toString(Math.min(n, 1000)), "--sampler", s[0], "--steps", s[1], "--json");
        org.diffusion4j.io.AtomicFiles.write(cached, js.getBytes(StandardCharsets.UTF_8));
      }
      JsonObject e = JsonParser.parseString(js).getAsJsonObject();
      JsonObject row = e.getAsJsonArray("results").get(0).getAsJsonObject();
      row.addProperty("sampler", s[0]);
      evals.add(row);
    }
    report.add("samples", evals);
    StringBuilder md = new StringBuilder();
    md.append("Model ").append(model).append(", reference ").append(test).append("\n\n");
    if (report.has("nll")) {
      JsonObject nll = report.getAsJsonObject("nll");
      md.append(String.format(Locale.ROOT, "NLL: %.4f ± %.4f bits/dim (%d test images, %s, %.0f NFE per ODE solve, "
          + "%.0f s)%n%n", nll.get("bpd").getAsDouble(), nll.get("stderr_bpd").getAsDouble(), nll.get("n").getAsInt(),
          nll.get("divergence").getAsString(), nll.get("nfe").getAsDouble(), nll.get("seconds").getAsDouble()));
    }
    md.append("| sampler | steps | NFE | FD (MNIST features) | KID ×10³ | precision | recall | density | coverage "
        + "| confidence | class balance | sampling s |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (var el : evals) {
      JsonObject r = el.getAsJsonObject();
      md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f "
          + "| %.0f |%n", r.get("sampler").getAsString(), r.get("steps").getAsInt(), r.get("nfe").getAsInt(),
          r.get("fd").getAsDouble(), r.get("kid").getAsDouble(), r.get("precision").getAsDouble(),
          r.get("recall").getAsDouble(), r.get("density").getAsDouble(), r.get("coverage").getAsDouble(),
          r.get("confidence").getAsDouble(), r.get("class_balance").getAsDouble(),
          r.get("sample_seconds").getAsDouble()));
    }
    md.append("\nCommands:\n\n```\n");
    for (String l : lines) {
      md.append(l).append('\n');
    }
    md.append("```\n");
    Files.writeString(out.resolve("measure.json"), report + "\n", StandardCharsets.UTF_8);
    Files.writeString(out.resolve("measure.md"), md, StandardCharsets.UTF_8);
    System.out.println(md);
    System.out.println("wrote " + out.resolve("measure.json") + " and " + out.resolve("measure.md"));
  }

  /** Runs one d4j command in this JVM; returns its standard output; fails loudly on a non-zero exit. */
  private static String run(List<String> lines, String... args) {
    String line = "bin/d4j " + String.join(" ", args);
    System.out.println("$ " + line);
    long t0 = System.nanoTime();
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = D4j.execute(new PrintWriter(o, true), new PrintWriter(e, true), args);
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "  (%.0f s)%n", s);
    if (code != 0) {
      throw new IllegalStateException(line + " failed (exit " + code + "): " + e);
    }
    lines.add(String.format(Locale.ROOT, "%s   # %.0f s", line, s));
    System.out.print(o);
    return o.toString();
  }
}
