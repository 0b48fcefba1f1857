package org.diffusion4j.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.diffusion4j.cli.D4j;
import org.diffusion4j.cli.plot.ImageGrid;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;
import org.diffusion4j.train.loop.Checkpoint;

/**
 * {@code bin/bench distill-mnist}: the few-step methods on MNIST. Each method distils the teacher (an
 * unconditional MNIST run) with {@code d4j distill}; every student is measured with {@code d4j eval} at 1, 2
 * and 4 NFE (its own flow-map sampler; progressive distillation at the NFE of each round), the teacher with
 * Heun on 18 Karras steps (35 NFE) and DPM-Solver++(2M) on 10, all by the Fréchet distance in the project's
 * MNIST classifier features to the test set, KID and the classifier's confidence. Writes
 * {@code distill-mnist.md} (rows: method; columns: NFE; the wall-clock of each distillation) and
 * {@code distill-mnist.png} (rows: method; columns: 1, 2, 4 NFE, 8 samples each, same seeds) into
 * {@code --out}.
 *
 * <p>Everything is kept in {@code --out} and continued: a distillation killed part-way resumes from its last
 * checkpoint ({@code d4j distill --resume}, bit for bit), a finished one and each evaluation are reused, so
 * the benchmark (hours of 2-core time) can be reached over several invocations.
 *
 * <pre>
 *   bin/bench distill-mnist --teacher RUN [--methods pd,cd,scd,ctm,mf] [--steps 2000[,pd=500,…]]
 *                           [--pd-rounds 8,4,2,1] [--n 2000] [--batch B] [--data mnist:DIR] [--out bench-out/distill-mnist]
 * </pre>
 */
public final class MnistDistillBench {
  private static final int[] NFE = {1, 2, 4};
  private static final List<String> ALL = List.of("pd", "cd", "scd", "ctm", "mf", "dmd", "kd");

  private MnistDistillBench() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> o = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --option value pairs, got " + String.join(" ", args)
            + "; usage: bin/bench distill-mnist --teacher RUN [--methods pd,cd,scd,ctm,mf] [--steps 2000[,pd=500,…]] "
            + "[--pd-rounds 8,4,2,1] [--n 2000] [--batch B] [--data mnist:DIR] [--out DIR]");
      }
      o.put(args[i].substring(2), args[i + 1]);
    }
    for (String k : o.keySet()) {
      if (!List.of("teacher", "methods", "steps", "pd-rounds", "n", "batch", "data", "out").contains(k)) {
        throw new IllegalArgumentException("unknown option --" + k);
      }
    }
    if (!o.containsKey("teacher")) {
      throw new IllegalArgumentException("give --teacher RUN: an unconditional MNIST run (e.g. bin/d4j train --data "
          + "mnist:../shared/data/mnist --base-channels 16 --steps 6000 --out runs/mnist16)");
    }
    Path teacher = Path.of(o.get("teacher"));
    if (!Files.isRegularFile(teacher.resolve(Checkpoint.CONFIG))) {
      throw new IllegalArgumentException("--teacher " + teacher + " holds no run (no config.json)");
    }
    List<String> methods = List.of(o.getOrDefault("methods", "pd,cd,scd,ctm,mf").split(","));
    for (String m : methods) {
      if (!ALL.contains(m)) {
        throw new IllegalArgumentException("unknown method '" + m + "'; accepted: " + String.join(", ", ALL));
      }
    }
    // --steps 2000 or --steps 2000,pd=500,scd=1000: a default and per-method overrides (pd: per round).
    Map<String, Long> stepsOf = new LinkedHashMap<>();
    long steps = 2000;
    for (String part : o.getOrDefault("steps", "2000").split(",")) {
      String[] kv = part.trim().split("=");
      try {
        if (kv.length == 1) {
          steps = Long.parseLong(kv[0]);
        } else if (kv.length == 2 && ALL.contains(kv[0])) {
          stepsOf.put(kv[0], Long.parseLong(kv[1]));
        } else {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--steps: cannot read '" + part + "'; give N or N,method=N,… (methods: "
            + String.join(", ", ALL) + ")");
      }
    }
    int[] rounds = java.util.Arrays.stream(o.getOrDefault("pd-rounds", "8,4,2,1").split(","))
        .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    int n = Integer.parseInt(o.getOrDefault("n", "2000"));
    String data = o.getOrDefault("data", "mnist:../shared/data/mnist") + ":test";
    Path out = Path.of(o.getOrDefault("out", "bench-out/distill-mnist"));
    Files.createDirectories(out);
    List<String> batch = o.containsKey("batch") ? List.of("--batch", o.get("batch")) : List.of();

    List<String> log = new ArrayList<>();
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Command: bin/bench distill-mnist %s%n%nTeacher %s; every distillation %d "
        + "steps unless the steps column says otherwise (pd: per round); %d samples against the first %d test images; "
        + "FD = Fréchet distance in the project's MNIST classifier features (not Inception FID).%n%n",
        String.join(" ", args), teacher, steps, n, n));
    md.append("| method | 1 NFE | 2 NFE | 4 NFE | steps | distillation wall-clock | note |\n"
        + "|---|---|---|---|---|---|---|\n");
    Map<String, double[]> pictures = new LinkedHashMap<>();

    // The teacher at full cost: the reference the goal compares against.
    JsonObject heun = eval(out, "teacher-heun-18", teacher, n, data, log, "--sampler", "heun", "--steps", "18");
    JsonObject dpm = eval(out, "teacher-dpmpp-2m-10", teacher, n, data, log, "--sampler", "dpmpp-2m", "--steps", "10");
    double teacherFd = heun.get("fd").getAsDouble();
    md.append(String.format(Locale.ROOT, "| teacher | | | | | | Heun 18 steps (%d NFE): FD %.2f; DPM-Solver++(2M) 10 "
        + "steps (%d NFE): FD %.2f |%n", heun.get("nfe").getAsInt(), teacherFd, dpm.get("nfe").getAsInt(),
        dpm.get("fd").getAsDouble()));
    double[] few = new double[NFE.length];
    for (int k = 0; k < NFE.length; k++) {
      few[k] = eval(out, "teacher-euler-nfe" + NFE[k], teacher, n, data, log, "--sampler", "euler", "--steps",
          Integer.toString(NFE[k])).get("fd").getAsDouble();
    }
    md.append(row("teacher, Euler at that NFE", few, "", null, "the undistilled model at the same cost"));
    pictures.put("teacher (Euler)", picture(out, "teacher", teacher, log, "--sampler", "euler"));

    double best2 = Double.POSITIVE_INFINITY;
    String best2Method = "";
    for (String m : methods) {
      long mSteps = stepsOf.getOrDefault(m, steps);
      double[] fd = new double[NFE.length];
      java.util.Arrays.fill(fd, Double.NaN);
      double seconds = 0;
      String note = "";
      if (m.equals("pd")) {
        // Rounds 2N → N from the teacher: each round's student is the next round's teacher.
        Path prev = teacher;
        double[] pics = null;
        for (int r : rounds) {
          Path run = out.resolve("pd" + r);
          seconds += distill(run, log, List.of("--teacher", prev.toString(), "--method", "pd", "--levels",
              Integer.toString(r)), mSteps, batch);
          int k = java.util.Arrays.binarySearch(NFE, r);
          if (k >= 0) {
            fd[k] = eval(out, "pd" + r, run, n, data, log, "--sampler", "ddim", "--grid", "karras", "--steps",
                Integer.toString(r)).get("fd").getAsDouble();
            double[] p = picture(out, "pd" + r, run, log, "--sampler", "ddim", "--grid", "karras");
            if (pics == null) {
              pics = new double[p.length];
              java.util.Arrays.fill(pics, 1.0); // rounds not run stay white
            }
            System.arraycopy(p, k * 8 * 784, pics, k * 8 * 784, 8 * 784);
          }
          prev = run;
        }
        note = "rounds " + java.util.Arrays.toString(rounds) + " DDIM steps, each from the previous";
        if (pics != null) {
          pictures.put("pd", pics);
        }
      } else {
        Path run = out.resolve(m);
        List<String> a = new ArrayList<>(List.of("--teacher", teacher.toString(), "--method", m));
        seconds += distill(run, log, a, mSteps, batch);
        JsonObject e = evalAll(out, m, run, n, data, log);
        for (int k = 0; k < NFE.length; k++) {
          fd[k] = e.getAsJsonArray("results").get(k).getAsJsonObject().get("fd").getAsDouble();
        }
        pictures.put(m, picture(out, m, run, log));
      }
      if (fd[1] < best2) {
        best2 = fd[1];
        best2Method = m;
      }
      // The steps a run actually took (a finished run asked for fewer is reused as it is).
      Path last = out.resolve(m.equals("pd") ? "pd" + rounds[rounds.length - 1] : m);
      long took = Checkpoint.readWeightsWithStep(last, false).getKey();
      md.append(row(m, fd, m.equals("pd") ? rounds.length + " × " + took : Long.toString(took), seconds, note));
      AtomicFiles.write(out.resolve("distill-mnist.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    }
    md.append(String.format(Locale.ROOT, "%nGoal: the best 2-NFE model within 2× of the teacher's 35-NFE distance: %s "
        + "(best 2 NFE: %s, FD %.2f = %.2f× the teacher's %.2f).%n", best2 <= 2 * teacherFd ? "met" : "not met",
        best2Method, best2, best2 / teacherFd, teacherFd));
    md.append("\n![rows: method; columns: 1, 2, 4 NFE](distill-mnist.png)\n\nCommands:\n\n```\n");
    log.forEach(l -> md.append(l).append('\n'));
    md.append("```\n");
    AtomicFiles.write(out.resolve("distill-mnist.md"), md.toString().getBytes(StandardCharsets.UTF_8));
    writePicture(out.resolve("distill-mnist.png"), pictures);
    System.out.println(md);
    System.out.println("wrote " + out.resolve("distill-mnist.md") + " and " + out.resolve("distill-mnist.png"));
  }

  private static String row(String method, double[] fd, String steps, Double seconds, String note) {
    StringBuilder b = new StringBuilder("| ").append(method);
    for (double f : fd) {
      b.append(" | ").append(Double.isNaN(f) ? "" : String.format(Locale.ROOT, "%.2f", f));
    }
    b.append(" | ").append(steps).append(" | ")
        .append(seconds == null ? "" : String.format(Locale.ROOT, "%.0f s", seconds)).append(" | ")
        .append(note).append(" |\n");
    return b.toString();
  }

  /**
   * Distils into {@code run} (its settings {@code args} plus {@code --steps}): a finished run is reused, one
   * killed after a checkpoint continues with {@code --resume}, one killed before any checkpoint starts over.
   * Returns the seconds this call spent.
   */
  private static double distill(Path run, List<String> log, List<String> args, long steps, List<String> batch)
      throws IOException {
    long done = -1;
    if (Files.isRegularFile(run.resolve(Checkpoint.CONFIG))) {
      done = Files.isRegularFile(run.resolve(Checkpoint.WEIGHTS)) ? Checkpoint.readWeightsWithStep(run, false).getKey()
          : -1;
      if (done < 0) {
        deleteTree(run); // nothing to resume: start over
      }
    }
    if (done >= steps) {
      System.out.println("reusing " + run + " (step " + done + ")");
      log.add("# reused " + run);
      return seconds(run);
    }
    List<String> a = new ArrayList<>(List.of("distill", "--out", run.toString(), "--steps", Long.toString(steps)));
    if (done >= 0) {
      a.add("--resume");
    } else {
      a.addAll(args);
      a.addAll(batch);
    }
    double t = run(log, true, a.toArray(new String[0]))[0];
    Files.writeString(run.resolve("bench-seconds.txt"), String.format(Locale.ROOT, "%.1f%n", seconds(run) + t));
    return seconds(run);
  }

  /** The wall-clock the bench recorded for a run, over all the invocations that trained it. */
  private static double seconds(Path run) throws IOException {
    Path f = run.resolve("bench-seconds.txt");
    return Files.isRegularFile(f) ? Double.parseDouble(Files.readString(f).trim()) : 0;
  }

  /** One {@code d4j eval} at one setting, cached in {@code out/eval-NAME-nN.json}; returns its result row. */
  private static JsonObject eval(Path out, String name, Path model, int n, String data, List<String> log,
      String... sampling) throws IOException {
    return evalJson(out, name, model, n, data, log, sampling).getAsJsonArray("results").get(0).getAsJsonObject();
  }

  /** A few-step student at 1, 2 and 4 NFE in one {@code d4j eval}, cached. */
  private static JsonObject evalAll(Path out, String name, Path model, int n, String data, List<String> log)
      throws IOException {
    return evalJson(out, name, model, n, data, log, "--steps", "1,2,4");
  }

  private static JsonObject evalJson(Path out, String name, Path model, int n, String data, List<String> log,
      String... sampling) throws IOException {
    // The cache key carries the model's step: a run trained further is measured again.
    long step = Checkpoint.readWeightsWithStep(model, true).getKey();
    Path cached = out.resolve("eval-" + name + "-step" + step + "-n" + n + ".json");
    if (Files.isRegularFile(cached)) {
      System.out.println("reusing " + cached);
      log.add("# reused " + cached);
      return JsonParser.parseString(Files.readString(cached)).getAsJsonObject();
    }
    List<String> a = new ArrayList<>(List.of("eval", "--model", model.toString(), "--data", data, "--metrics",
        "fd,kid,classes", "--n", Integer.toString(n), "--kid-size", Integer.toString(Math.min(n, 1000)), "--out",
        cached.toString(), "--json"));
    a.addAll(List.of(sampling));
    run(log, false, a.toArray(new String[0]));
    return JsonParser.parseString(Files.readString(cached)).getAsJsonObject();
  }

  /** 8 samples (seeds 0–7) at each of 1, 2, 4 NFE, flattened [nfe][sample][784]; cached as .npy files. */
  private static double[] picture(Path out, String name, Path model, List<String> log, String... sampling)
      throws IOException {
    double[] all = new double[NFE.length * 8 * 784];
    for (int k = 0; k < NFE.length; k++) {
      if (name.startsWith("pd") && !name.equals("pd" + NFE[k])) {
        continue; // a PD round is sampled at its own NFE only
      }
      Path f = out.resolve("samples-" + name + "-nfe" + NFE[k] + ".npy");
      if (!Files.isRegularFile(f)) {
        List<String> a = new ArrayList<>(List.of("sample", "--model", model.toString(), "--seeds", "0-7", "--steps",
            Integer.toString(NFE[k]), "--out", f.toString()));
        a.addAll(List.of(sampling));
        run(log, false, a.toArray(new String[0]));
      }
      // d4j sample writes the data's own units (pixels 0–255); the picture takes the model's [−1, 1].
      org.diffusion4j.train.data.DataSource.Affine a =
          org.diffusion4j.train.loop.TrainedModel.readConfig(model).scaling();
      double[] x = Npy.read(f).data();
      for (int i = 0; i < 8 * 784; i++) {
        all[k * 8 * 784 + i] = a.scale() * x[i] + a.shift();
      }
    }
    return all;
  }

  /**
   * Rows: method (named on the left); columns: 8 samples at 1 NFE, a gap, 8 at 2 NFE, a gap, 8 at 4 NFE
   * (headed on top). Cells a method has no model for (a PD round not run) stay white.
   */
  private static void writePicture(Path file, Map<String, double[]> pictures) throws IOException {
    int cols = NFE.length * 9 - 1;
    double[] grid = new double[pictures.size() * cols * 784];
    java.util.Arrays.fill(grid, 1.0); // gaps are white
    int r = 0;
    for (double[] p : pictures.values()) {
      for (int k = 0; k < NFE.length; k++) {
        for (int j = 0; j < 8; j++) {
          System.arraycopy(p, (k * 8 + j) * 784, grid, (r * cols + k * 9 + j) * 784, 784);
        }
      }
      r++;
    }
    java.awt.image.BufferedImage cells = ImageGrid.grid(grid, pictures.size() * cols, 1, 28, 28, 2, cols);
    int left = 150;
    int top = 28;
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(left + cells.getWidth(),
        top + cells.getHeight(), java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = img.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING, java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(java.awt.Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.drawImage(cells, left, top, null);
    g.setColor(java.awt.Color.BLACK);
    g.setFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 15));
    double cellW = cells.getWidth() / (double) cols;
    double cellH = cells.getHeight() / (double) pictures.size();
    for (int k = 0; k < NFE.length; k++) {
      g.drawString(NFE[k] + " NFE", (int) (left + (k * 9 + 3.2) * cellW), top - 8);
    }
    r = 0;
    for (String name : pictures.keySet()) {
      g.drawString(name, 8, (int) (top + (r + 0.6) * cellH));
      r++;
    }
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  /**
   * Runs one d4j command in this JVM ({@code live}: its output goes straight to the terminal, for long
   * distillations); fails loudly on a non-zero exit. Returns {seconds}.
   */
  private static double[] run(List<String> log, boolean live, String... args) {
    String line = "bin/d4j " + String.join(" ", args);
    System.out.println("$ " + line);
    long t0 = System.nanoTime();
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    PrintWriter pw = live ? new PrintWriter(System.out, true) : new PrintWriter(o, true);
    int code = D4j.execute(pw, new PrintWriter(e, true), args);
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf(Locale.ROOT, "  (%.0f s)%n", s);
    if (code != 0) {
      throw new IllegalStateException(line + " failed (exit " + code + "): " + e);
    }
    log.add(String.format(Locale.ROOT, "%s   # %.0f s", line, s));
    return new double[] {s};
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
