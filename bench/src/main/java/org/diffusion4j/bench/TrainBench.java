package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.loop.AdamW;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.GradientClipping;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * Throughput of training and sampling: the median time, after warm-up, of one training step of the toy
 * MLP ({@code MlpConfig.toy(2)}, batch 512×2) and of the MNIST U-Net ({@code UNetConfig.mnist()}, batch
 * 32×1×28×28) — EDM objective, forward, backward, AdamW update, zeroed gradients, each step in its own
 * sub-manager and {@link NDScope} as {@link Trainer#run} takes it — and of one sampling step (a
 * {@link NetworkDenoiser} call at σ = 1 on the same batches).
 *
 * <p>Where Debian's PyTorch is installed ({@code /usr/bin/python3} with {@code python3-torch}), the same
 * networks written in PyTorch ({@code bench/src/main/python/torch_bench.py}) run as a second process,
 * and the two sides are timed in alternating rounds at each thread count, so that both see the same
 * machine load; the table shows the ratio DJL/PyTorch. The parameter counts of both implementations must
 * agree to 1%, or the benchmark stops. The BLAS PyTorch resolves is printed, with a warning for netlib's
 * reference BLAS.
 *
 * <p>{@code --profile} instead breaks one training step and one sampling step of each network down by phase and op
 * class, from PyTorch's own profiler on both sides (DJL's {@code JniUtils.startProfile}), averaged over
 * {@code --profile-steps} steps.
 *
 * <p>Usage: {@code bin/bench train [--threads 1,2] [--warmup W] [--mlp-steps K] [--unet-steps K]
 * [--rounds R] [--profile] [--profile-steps P]} (defaults: 1,2; 3; 30; 8; 4; 3).
 */
public final class TrainBench {
  private static final int MLP_BATCH = 512;
  private static final int UNET_BATCH = 32;
  private static final double SAMPLE_SIGMA = 1.0;
  static final List<String> CASES = List.of("mlp-train", "unet-train", "mlp-sample", "unet-sample");
  static final Map<String, String> WHAT = Map.of("mlp-train", "MLP training step", "unet-train",
      "U-Net training step", "mlp-sample", "MLP sampling step", "unet-sample", "U-Net sampling step");

  private TrainBench() {}

  /** One timed case at one thread count: DJL's median and, when PyTorch ran, its median. */
  private record Row(String id, int threads, int batch, double djlMs, Double torchMs) {}

  /** The parsed command line. */
  private record Options(int[] threads, int warmup, int mlpSteps, int unetSteps, int rounds, boolean profile,
      int profileSteps) {}

  public static void main(String[] args) throws IOException {
    Options o = options(args);
    int maxThreads = Arrays.stream(o.threads()).max().orElseThrow();
    // The pool is sized when the engine loads; smaller counts are set per row.
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(maxThreads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Engine engine = Engine.getInstance();
    System.out.printf(Locale.ROOT, "DJL %s, PyTorch engine %s: threads %s, 1 inter-op; OMP_WAIT_POLICY %s, "
        + "GOMP_SPINCOUNT %s, OMP_NUM_THREADS %s, %s; %s.%n", Engine.getDjlVersion(),
        engine.getVersion(), Arrays.toString(o.threads()), System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset"),
        System.getenv().getOrDefault("GOMP_SPINCOUNT", "unset"),
        System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"), ProcessMemory.allocator(),
        o.profile() ? "profile of " + o.profileSteps() + " step(s)"
            : String.format(Locale.ROOT, "warm-up %d steps, medians of %d (MLP) and %d (U-Net) steps in %d "
                + "alternating rounds", o.warmup(), o.mlpSteps(), o.unetSteps(), o.rounds()));

    try (NDManager base = NDManager.newBaseManager(); TorchTwin torch = TorchTwin.start(maxThreads, List.of(
        "--mlp-batch", "" + MLP_BATCH, "--unet-batch", "" + UNET_BATCH))) {
      if (torch != null) {
        JsonObject h = torch.hello();
        System.out.printf(Locale.ROOT, "PyTorch %s (%s), BLAS %s.%n", h.get("torch").getAsString(), TorchTwin.PYTHON,
            torch.blas());
        if (torch.referenceBlas()) {
          System.out.println("WARNING: PyTorch found netlib's reference BLAS, which is several times slower than "
              + "OpenBLAS: the ratios below flatter DJL (sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu).");
        }
      }
      Cases cases = new Cases(base);
      checkParameters("MLP", count(cases.mlp), torch, "mlp");
      checkParameters("U-Net", count(cases.unet), torch, "unet");
      if (o.profile()) {
        for (int t : o.threads()) {
          profile(cases, torch, t, o.profileSteps());
        }
        return;
      }
      List<Row> rows = new ArrayList<>();
      for (int t : o.threads()) {
        JniUtils.setNumThreads(t);
        if (torch != null) {
          torch.threads(t);
        }
        for (String c : CASES) {
          int steps = c.startsWith("mlp") ? o.mlpSteps() : o.unetSteps();
          rows.add(interleaved(cases, torch, c, t, o.warmup(), steps, o.rounds()));
        }
      }
      print(rows, torch);
    }
  }

  private static Options options(String[] args) {
    int[] threads = {1, 2};
    Map<String, Integer> opt = new LinkedHashMap<>();
    opt.put("warmup", 3);
    opt.put("mlp-steps", 30);
    opt.put("unet-steps", 8);
    opt.put("rounds", 4);
    opt.put("profile-steps", 3);
    boolean profile = false;
    String usage = "usage: bin/bench train [--threads 1,2] [--warmup W] [--mlp-steps K] [--unet-steps K] "
        + "[--rounds R] [--profile] [--profile-steps P]";
    for (int i = 0; i < args.length; i++) {
      String key = args[i].startsWith("--") ? args[i].substring(2) : args[i];
      if (key.equals("profile")) {
        profile = true;
        continue;
      }
      if (i + 1 >= args.length || !(opt.containsKey(key) || key.equals("threads"))) {
        throw new IllegalArgumentException(usage + "; got '" + args[i] + "'");
      }
      String value = args[++i];
      if (key.equals("threads")) {
        threads = Arrays.stream(value.split(",")).mapToInt(s -> positive("threads", s.strip(), 1)).toArray();
        continue;
      }
      opt.put(key, positive(key, value, key.equals("warmup") ? 0 : 1));
    }
    return new Options(threads, opt.get("warmup"), opt.get("mlp-steps"), opt.get("unet-steps"), opt.get("rounds"),
        profile, opt.get("profile-steps"));
  }

  private static int positive(String key, String value, int min) {
    int v;
    try {
      v = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + key + " takes an integer (threads: a list like 1,2), got '" + value
          + "'");
    }
    if (v < min) {
      throw new IllegalArgumentException("--" + key + " must be ≥ " + min + ", got " + v);
    }
    return v;
  }

  /**
   * {@code steps} timed steps of each side, in {@code rounds} alternating blocks (DJL, PyTorch, DJL, …), each
   * block after {@code warmup} untimed steps in the first round and one in later ones.
   */
  private static Row interleaved(Cases cases, TorchTwin torch, String c, int threads, int warmup, int steps,
      int rounds) throws IOException {
    List<Double> djl = new ArrayList<>();
    List<Double> py = new ArrayList<>();
    int done = 0;
    for (int r = 0; r < rounds && done < steps; r++) {
      int k = (steps - done + rounds - r - 1) / (rounds - r);
      int w = r == 0 ? warmup : 1;
      for (double ms : cases.time(c, w, k)) {
        djl.add(ms);
      }
      if (torch != null) {
        for (double ms : torch.time(c, w, k)) {
          py.add(ms);
        }
      }
      done += k;
    }
    int batch = c.startsWith("mlp") ? MLP_BATCH : UNET_BATCH;
    Row row = new Row(c, threads, batch, median(djl), torch == null ? null : median(py));
    System.out.printf(Locale.ROOT, "  %-20s %d thread(s): DJL %.1f ms%s%n", WHAT.get(c), threads, row.djlMs(),
        row.torchMs() == null ? "" : String.format(Locale.ROOT, ", PyTorch %.1f ms", row.torchMs()));
    return row;
  }

  private static double median(List<Double> v) {
    double[] t = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = t.length;
    return n % 2 == 1 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  }

  /** The networks, their optimisers and fixed batches; each case keeps its state across rounds. */
  static final class Cases {
    final NDManager base;
    final Shape mlpShape = new Shape(MLP_BATCH, 2);
    final Shape unetShape = new Shape(UNET_BATCH, 1, 28, 28);
    final Block mlp;
    final Block unet;
    private final Map<String, Trainee> trainees = new LinkedHashMap<>();

    Cases(NDManager base) {
      this.base = base;
      mlp = MlpConfig.toy(2).build();
      mlp.initialize(base, DataType.FLOAT32, mlpShape);
      unet = UNetConfig.mnist().build();
      unet.initialize(base, DataType.FLOAT32, unetShape);
    }

    Trainee trainee(String net) {
      return trainees.computeIfAbsent(net, k -> k.equals("mlp") ? new Trainee(base, mlp, mlpShape)
          : new Trainee(base, unet, unetShape));
    }

    double[] time(String c, int warmup, int steps) {
      String net = c.substring(0, c.indexOf('-'));
      boolean train = c.endsWith("train");
      Block b = net.equals("mlp") ? mlp : unet;
      Shape s = net.equals("mlp") ? mlpShape : unetShape;
      Sampler sampler = train ? null : new Sampler(b, s);
      double[] ms = new double[steps];
      for (int i = -warmup; i < steps; i++) {
        long t0 = System.nanoTime();
        if (train) {
          trainee(net).step(null);
        } else {
          sampler.step(null);
        }
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
      return ms;
    }
  }

  /**
   * Runs and times a phase; with a profile directory, under PyTorch's profiler into {@code djl-CASE-PHASE.json}
   * (the twin's traces are {@code torch-CASE-PHASE.json} beside them).
   */
  static final class Phases {
    final Path dir;
    final String kase;
    final Map<String, Double> wallMs = new LinkedHashMap<>();
    final Map<String, Path> traces = new LinkedHashMap<>();

    Phases(Path dir, String kase) {
      this.dir = dir;
      this.kase = kase;
    }

    <T> T run(String phase, java.util.function.Supplier<T> body) {
      Path trace = dir.resolve("djl-" + kase + "-" + phase + ".json");
      JniUtils.startProfile(false, false, false);
      long t0 = System.nanoTime();
      T out = body.get();
      long t1 = System.nanoTime();
      JniUtils.stopProfile(trace.toString());
      wallMs.put(phase, (t1 - t0) / 1e6);
      traces.put(phase, trace);
      return out;
    }

    void run(String phase, Runnable body) {
      run(phase, () -> {
        body.run();
        return null;
      });
    }
  }

  /**
   * One network's training state, stepped as {@link Trainer#run} steps (accumulate 1, no clipping): batch,
   * σ's and ε drawn on the host, EDM loss under a {@link GradientCollector}, backward, the loss read back,
   * AdamW update, gradients zeroed; all in one sub-manager and {@link NDScope}. The Trainer's gradient norm
   * and EMA update run only when profiling (as extra phases; the timed step matches the twin's).
   */
  static final class Trainee {
    final NDManager base;
    final Block net;
    final Shape shape;
    final Objective objective = Objective.of("edm", Edm.DEFAULT, 0.5);
    final Map<String, NDArray> params;
    final AdamW adam = AdamW.defaults();
    final ParameterStore ps;
    final SplittableRandom rng = new SplittableRandom(0);
    final float[] data;
    Ema ema;
    /** Also the Trainer's gradient norm and EMA update in unprofiled steps (the soak benchmark). */
    boolean trainerExtras;

    Trainee(NDManager base, Block net, Shape shape) {
      this.base = base;
      this.net = net;
      this.shape = shape;
      params = Trainer.parameters(net);
      ps = new ParameterStore(base, false);
      data = uniform(rng, Math.toIntExact(shape.size()));
    }

    void step(Phases p) {
      int n = Math.toIntExact(shape.get(0));
      if ((p != null || trainerExtras) && ema == null) {
        ema = new Ema(base, params, new Ema.WarmUp(0.999)); // outside the step's scope: it outlives the step
      }
      try (NDManager sm = base.newSubManager(); NDScope scope = new NDScope()) {
        Engine.getInstance().setRandomSeed((int) (rng.nextLong() & 0x7fffffff));
        NDArray[] x0 = new NDArray[1];
        NDArray[] eps = new NDArray[1];
        double[][] sigma = new double[1][];
        phase(p, "draw", () -> {
          x0[0] = sm.create(data, shape);
          sigma[0] = objective.draw().draw(n, rng);
          eps[0] = sm.create(normals(rng, data.length), shape);
        });
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray l = phase(p, "forward", () -> objective.perExampleLoss(x0[0], sigma[0], eps[0],
              (in, cNoise) -> net.forward(ps, new NDList(in, cNoise), true).singletonOrThrow()).mean());
          phase(p, "backward", () -> gc.backward(l));
          double v = phase(p, "readback", () -> l.toType(DataType.FLOAT64, false).getDouble());
          if (!Double.isFinite(v)) {
            throw new IllegalStateException("benchmark loss is not finite");
          }
        }
        phase(p, "optimiser", () -> adam.update(params, 2e-4));
        phase(p, "zero", () -> AdamW.zeroGradients(params));
        if (p == null && trainerExtras) {
          List<NDArray> grads = new ArrayList<>();
          params.values().forEach(a -> grads.add(a.getGradient()));
          GradientClipping.globalNorm(grads);
          ema.update(params);
        }
        if (p != null) {
          // The Trainer's extras, after zeroing here (their cost does not depend on the values).
          List<NDArray> grads = new ArrayList<>();
          params.values().forEach(a -> grads.add(a.getGradient()));
          p.run("gradnorm", () -> GradientClipping.globalNorm(grads));
          p.run("ema", () -> ema.update(params));
        }
      }
    }
  }

  private static void phase(Phases p, String name, Runnable body) {
    if (p == null) {
      body.run();
    } else {
      p.run(name, body);
    }
  }

  private static <T> T phase(Phases p, String name, java.util.function.Supplier<T> body) {
    return p == null ? body.get() : p.run(name, body);
  }

  /** One sampling-mode denoiser call D(x̂; σ = 1) in its own sub-manager and {@link NDScope}. */
  static final class Sampler {
    final NetworkDenoiser d;
    final Shape shape;
    final float[] noise;

    Sampler(Block net, Shape shape) {
      d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      this.shape = shape;
      noise = normals(new SplittableRandom(1), Math.toIntExact(shape.size()));
    }

    void step(Phases p) {
      try (NDManager sm = d.network().getParameters().get(0).getValue().getArray().getManager().newSubManager();
          NDScope scope = new NDScope()) {
        NDArray x = phase(p, "draw", () -> sm.create(noise, shape));
        phase(p, "forward", () -> d.denoise(x, SAMPLE_SIGMA));
      }
    }
  }

  // -- profile --

  private static final List<String> TRAIN_PHASES = List.of("draw", "forward", "backward", "readback", "optimiser",
      "zero", "gradnorm", "ema");
  private static final Map<String, String> PHASE_NAMES = Map.of("draw", "batch to native (draw/upload)", "forward",
      "forward + loss", "backward", "backward", "readback", "loss to host", "optimiser", "AdamW update", "zero",
      "zero gradients", "gradnorm", "gradient norm (Trainer)", "ema", "EMA update (Trainer)");

  /** Phase walls and op classes of one training and one sampling step of the MLP and the U-Net, DJL next to the twin. */
  private static void profile(Cases cases, TorchTwin torch, int threads, int steps) throws IOException {
    JniUtils.setNumThreads(threads);
    if (torch != null) {
      torch.threads(threads);
    }
    Path dir = Files.createTempDirectory("d4j-profile");
    for (String kase : List.of("mlp-train", "mlp-sample", "unet-train", "unet-sample")) {
      boolean train = kase.endsWith("train");
      boolean mlp = kase.startsWith("mlp");
      Trainee t = train ? cases.trainee(mlp ? "mlp" : "unet") : null;
      Sampler s = train ? null : mlp ? new Sampler(cases.mlp, cases.mlpShape) : new Sampler(cases.unet, cases.unetShape);
      // Warm up both sides (first calls pick kernels and allocate).
      cases.time(kase, mlp ? 10 : 2, 0);
      if (torch != null) {
        torch.time(kase, mlp ? 10 : 2, 0);
      }
      Map<String, Double> djlPhase = new LinkedHashMap<>();
      Map<String, Double> djlOps = new LinkedHashMap<>();
      Map<String, Double> pyPhase = new LinkedHashMap<>();
      Map<String, Double> pyOps = new LinkedHashMap<>();
      for (int i = 0; i < steps; i++) {
        Phases p = new Phases(dir, kase);
        if (train) {
          t.step(p);
        } else {
          s.step(p);
        }
        accumulate(p.wallMs, p.traces, djlPhase, djlOps, steps);
        if (torch != null) {
          JsonObject r = torch.profile(kase, dir);
          Map<String, Double> wall = new LinkedHashMap<>();
          Map<String, Path> traces = new LinkedHashMap<>();
          r.getAsJsonObject("wall").entrySet().forEach(e -> wall.put(e.getKey(), e.getValue().getAsDouble()));
          r.getAsJsonObject("phases").entrySet().forEach(e -> traces.put(e.getKey(), Path.of(e.getValue().getAsString())));
          accumulate(wall, traces, pyPhase, pyOps, steps);
        }
      }
      System.out.printf(Locale.ROOT, "%n%s, %d thread(s), mean of %d profiled step(s) (times under the profiler, "
          + "which adds a few µs per op):%n", (mlp ? "MLP " : "U-Net ") + (train ? "training" : "sampling")
          + " step (batch " + (mlp ? cases.mlpShape : cases.unetShape).get(0) + ")", threads, steps);
      table("phase", train ? TRAIN_PHASES : List.of("draw", "forward"), PHASE_NAMES, djlPhase, pyPhase,
          torch != null);
      table("op class (forward + backward)", OpProfile.CLASSES, null, djlOps, pyOps, torch != null);
      double dn = djlOps.getOrDefault(OpProfile.OPS, 0.0);
      double pn = pyOps.getOrDefault(OpProfile.OPS, 0.0);
      System.out.printf(Locale.ROOT, "  top-level ops per step: DJL %.0f%s; framework time per op: DJL %.1f µs%s%n", dn,
          torch != null ? String.format(Locale.ROOT, ", PyTorch %.0f", pn) : "",
          1e3 * djlOps.getOrDefault(OpProfile.OVERHEAD, 0.0) / Math.max(1, dn),
          torch != null ? String.format(Locale.ROOT, ", PyTorch %.1f µs", 1e3 * pyOps.getOrDefault(OpProfile.OVERHEAD,
              0.0) / Math.max(1, pn)) : "");
    }
    System.out.println("Traces (chrome://tracing JSON): " + dir);
  }

  private static void accumulate(Map<String, Double> wall, Map<String, Path> traces, Map<String, Double> phaseMs,
      Map<String, Double> opsMs, int steps) throws IOException {
    for (Map.Entry<String, Double> e : wall.entrySet()) {
      String phase = e.getKey();
      phaseMs.merge(phase, e.getValue() / steps, Double::sum);
      if (phase.equals("forward") || phase.equals("backward")) {
        Map<String, Double> ms = new LinkedHashMap<>();
        OpProfile.addPhase(ms, traces.get(phase), e.getValue(), null);
        ms.forEach((k, v) -> opsMs.merge(k, v / steps, Double::sum));
      }
    }
  }

  private static void table(String title, List<String> keys, Map<String, String> names, Map<String, Double> djl,
      Map<String, Double> py, boolean withTorch) {
    System.out.printf(Locale.ROOT, "  %-40s %10s %12s %8s%n", title, "DJL ms", "PyTorch ms", "ratio");
    double dt = 0;
    double pt = 0;
    for (String k : keys) {
      double d = djl.getOrDefault(k, 0.0);
      double q = py.getOrDefault(k, 0.0);
      if (d == 0 && q == 0) {
        continue;
      }
      dt += d;
      pt += q;
      System.out.printf(Locale.ROOT, "  %-40s %10.1f %12s %8s%n", names == null ? k : names.get(k), d,
          withTorch ? String.format(Locale.ROOT, "%.1f", q) : "—",
          withTorch && q > 0 ? String.format(Locale.ROOT, "%.2f", d / q) : "—");
    }
    System.out.printf(Locale.ROOT, "  %-40s %10.1f %12s %8s%n", "total", dt,
        withTorch ? String.format(Locale.ROOT, "%.1f", pt) : "—",
        withTorch && pt > 0 ? String.format(Locale.ROOT, "%.2f", dt / pt) : "—");
  }

  private static float[] uniform(SplittableRandom rng, int size) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) rng.nextDouble(-1, 1);
    }
    return v;
  }

  private static float[] normals(SplittableRandom rng, int size) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) rng.nextGaussian();
    }
    return v;
  }

  private static long count(Block net) {
    long n = 0;
    for (Pair<String, Parameter> p : net.getParameters()) {
      n += p.getValue().getArray().size();
    }
    return n;
  }

  private static void checkParameters(String name, long djl, TorchTwin torch, String key) {
    if (torch == null) {
      System.out.printf(Locale.ROOT, "%s parameters: DJL %,d%n", name, djl);
      return;
    }
    long py = torch.hello().getAsJsonObject("params").get(key).getAsLong();
    System.out.printf(Locale.ROOT, "%s parameters: DJL %,d, PyTorch %,d%n", name, djl, py);
    if (Math.abs(djl - py) > 0.01 * djl) {
      throw new IllegalStateException(String.format(Locale.ROOT, "PARAMETER COUNT MISMATCH for the %s: DJL %d vs "
          + "PyTorch %d (more than 1%% apart); torch_bench.py no longer mirrors the Java network", name, djl, py));
    }
  }

  private static void print(List<Row> rows, TorchTwin torch) {
    System.out.printf(Locale.ROOT, "%n| case | threads | batch | DJL ms | PyTorch ms | DJL/PyTorch |%n"
        + "|---|---|---|---|---|---|%n");
    for (Row r : rows) {
      String torchMs = r.torchMs() == null ? "—" : String.format(Locale.ROOT, "%.1f", r.torchMs());
      String ratio = r.torchMs() == null ? "—" : String.format(Locale.ROOT, "%.2f", r.djlMs() / r.torchMs());
      System.out.printf(Locale.ROOT, "| %s | %d | %d | %.1f | %s | %s |%n", WHAT.get(r.id()), r.threads(), r.batch(),
          r.djlMs(), torchMs, ratio);
    }
    System.out.println("Medians of alternating rounds (both sides under the same load). Training steps exclude the "
        + "Trainer's gradient norm and EMA update (see --profile).");
    if (torch == null) {
      System.out.println("No PyTorch comparison: install Debian's python3-torch to compare.");
    }
  }
}
