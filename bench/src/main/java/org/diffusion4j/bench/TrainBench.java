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
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.loop.AdamW;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * Throughput of training and sampling (issue 3, "Throughput"): the median time, after warm-up, of one
 * training step of the toy MLP ({@code MlpConfig.toy(2)}, batch 512×2) and of the MNIST U-Net
 * ({@code UNetConfig.mnist()}, batch 32×1×28×28) — EDM objective, forward, backward, AdamW update, zeroed
 * gradients, each step in its own sub-manager and {@link NDScope} as {@link Trainer#run} takes it — and of
 * one sampling step (a {@link NetworkDenoiser} call at σ = 1 on the same batches).
 *
 * <p>Where Debian's PyTorch is installed ({@code /usr/bin/python3} with {@code python3-torch}), the same
 * networks written in PyTorch ({@code bench/src/main/python/torch_bench.py}) run in the same process run
 * with the same number of intra-op threads, and the table shows the ratio DJL/PyTorch. The parameter
 * counts of both implementations must agree to 1%, or the benchmark stops.
 *
 * <p>Usage: {@code bin/bench train [--threads N] [--warmup W] [--mlp-steps K] [--unet-steps K]}
 * (defaults: the machine's cores, 5, 50, 10).
 */
public final class TrainBench {
  /** Debian's interpreter, where {@code python3-torch} installs (override: {@code -Dd4j.bench.python}). */
  private static final String PYTHON = System.getProperty("d4j.bench.python", "/usr/bin/python3");
  private static final int MLP_BATCH = 512;
  private static final int UNET_BATCH = 32;
  private static final double SAMPLE_SIGMA = 1.0;

  private TrainBench() {}

  /** One timed case: DJL's median and, when PyTorch ran, its median. */
  private record Row(String id, String what, int batch, double djlMs, Double torchMs) {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Map<String, Integer> opt = options(args);
    int threads = opt.get("threads");
    int warmup = opt.get("warmup");
    int mlpSteps = opt.get("mlp-steps");
    int unetSteps = opt.get("unet-steps");
    // Threads are fixed when the engine loads.
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    Engine engine = Engine.getInstance();
    System.out.printf(Locale.ROOT, "DJL %s, PyTorch engine %s: %d intra-op thread(s), %d inter-op; "
        + "OMP_WAIT_POLICY %s; warm-up %d steps, median of %d (MLP) and %d (U-Net) steps.%n",
        Engine.getDjlVersion(), engine.getVersion(), JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(),
        System.getenv().getOrDefault("OMP_WAIT_POLICY", "unset"), warmup, mlpSteps, unetSteps);

    try (NDManager base = NDManager.newBaseManager()) {
      Shape mlpShape = new Shape(MLP_BATCH, 2);
      Block mlp = MlpConfig.toy(2).build();
      mlp.initialize(base, DataType.FLOAT32, mlpShape);
      Shape unetShape = new Shape(UNET_BATCH, 1, 28, 28);
      Block unet = UNetConfig.mnist().build();
      unet.initialize(base, DataType.FLOAT32, unetShape);

      // PyTorch first, so a mismatch in the networks stops the run before the long DJL timings.
      JsonObject torch = runTorch(threads, warmup, mlpSteps, unetSteps);
      checkParameters("MLP", count(mlp), torch, "mlp");
      checkParameters("U-Net", count(unet), torch, "unet");

      List<Row> rows = List.of(
          row("mlp-train", "MLP training step", MLP_BATCH, trainMs(base, mlp, mlpShape, warmup, mlpSteps), torch),
          row("unet-train", "U-Net training step", UNET_BATCH, trainMs(base, unet, unetShape, warmup, unetSteps),
              torch),
          row("mlp-sample", "MLP sampling step", MLP_BATCH, sampleMs(base, mlp, mlpShape, warmup, mlpSteps), torch),
          row("unet-sample", "U-Net sampling step", UNET_BATCH, sampleMs(base, unet, unetShape, warmup, unetSteps),
              torch));
      print(rows, torch);
    }
  }

  private static Map<String, Integer> options(String[] args) {
    Map<String, Integer> opt = new LinkedHashMap<>();
    opt.put("threads", Runtime.getRuntime().availableProcessors());
    opt.put("warmup", 5);
    opt.put("mlp-steps", 50);
    opt.put("unet-steps", 10);
    for (int i = 0; i < args.length; i += 2) {
      String key = args[i].startsWith("--") ? args[i].substring(2) : args[i];
      if (!opt.containsKey(key) || i + 1 >= args.length) {
        throw new IllegalArgumentException("usage: bin/bench train [--threads N] [--warmup W] [--mlp-steps K] "
            + "[--unet-steps K]; got '" + args[i] + "'");
      }
      int v = Integer.parseInt(args[i + 1]);
      if (v < (key.equals("warmup") ? 0 : 1)) {
        throw new IllegalArgumentException("--" + key + " must be " + (key.equals("warmup") ? "≥ 0" : "≥ 1")
            + ", got " + v);
      }
      opt.put(key, v);
    }
    return opt;
  }

  /**
   * Median ms of one training step as {@link Trainer#run} takes it (accumulate 1, no clipping or EMA):
   * batch, σ's and ε drawn on the host, EDM loss under a {@link GradientCollector}, backward, the loss read
   * back, AdamW update, gradients zeroed; all in one sub-manager and {@link NDScope}.
   */
  private static double trainMs(NDManager base, Block net, Shape shape, int warmup, int steps) {
    Objective objective = Objective.of("edm", Edm.DEFAULT, 0.5);
    Map<String, NDArray> params = Trainer.parameters(net);
    AdamW adam = AdamW.defaults();
    ParameterStore ps = new ParameterStore(base, false);
    int n = Math.toIntExact(shape.get(0));
    SplittableRandom rng = new SplittableRandom(0);
    float[] data = uniform(rng, Math.toIntExact(shape.size()));
    return medianMs(warmup, steps, () -> {
      long t0 = System.nanoTime();
      try (NDManager sm = base.newSubManager(); NDScope scope = new NDScope()) {
        Engine.getInstance().setRandomSeed((int) (rng.nextLong() & 0x7fffffff));
        NDArray x0 = sm.create(data, shape);
        double[] sigma = objective.draw().draw(n, rng);
        NDArray eps = sm.create(normals(rng, data.length), shape);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray l = objective.perExampleLoss(x0, sigma, eps,
              (in, cNoise) -> net.forward(ps, new NDList(in, cNoise), true).singletonOrThrow()).mean();
          gc.backward(l);
          if (!Double.isFinite(l.toType(DataType.FLOAT64, false).getDouble())) {
            throw new IllegalStateException("benchmark loss is not finite");
          }
        }
        adam.update(params, 2e-4);
        AdamW.zeroGradients(params);
      }
      return System.nanoTime() - t0;
    });
  }

  /** Median ms of one sampling-mode denoiser call D(x̂; σ = 1) in its own sub-manager and {@link NDScope}. */
  private static double sampleMs(NDManager base, Block net, Shape shape, int warmup, int steps) {
    NetworkDenoiser d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
    SplittableRandom rng = new SplittableRandom(1);
    float[] noise = normals(rng, Math.toIntExact(shape.size()));
    return medianMs(warmup, steps, () -> {
      long t0 = System.nanoTime();
      try (NDManager sm = base.newSubManager(); NDScope scope = new NDScope()) {
        d.denoise(sm.create(noise, shape), SAMPLE_SIGMA);
      }
      return System.nanoTime() - t0;
    });
  }

  private static double medianMs(int warmup, int steps, LongSupplier step) {
    for (int i = 0; i < warmup; i++) {
      step.getAsLong();
    }
    long[] t = new long[steps];
    for (int i = 0; i < steps; i++) {
      t[i] = step.getAsLong();
    }
    Arrays.sort(t);
    double median = steps % 2 == 1 ? t[steps / 2] : 0.5 * (t[steps / 2 - 1] + t[steps / 2]);
    return median / 1e6;
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

  // -- PyTorch twin --

  /** Runs torch_bench.py; null when Debian's PyTorch is absent. */
  private static JsonObject runTorch(int threads, int warmup, int mlpSteps, int unetSteps)
      throws IOException, InterruptedException {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      System.out.println("No " + PYTHON + ": DJL numbers only (install Debian's python3-torch to compare).");
      return null;
    }
    Path script = torchScript();
    ProcessBuilder pb = new ProcessBuilder(PYTHON, script.toString(), "--threads", "" + threads, "--warmup",
        "" + warmup, "--mlp-steps", "" + mlpSteps, "--unet-steps", "" + unetSteps, "--mlp-batch", "" + MLP_BATCH,
        "--unet-batch", "" + UNET_BATCH);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    pb.environment().put("MKL_NUM_THREADS", Integer.toString(threads));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    System.out.println("Running the PyTorch twin: " + String.join(" ", pb.command()));
    Process p = pb.start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
    int rc = p.waitFor();
    if (rc != 0) {
      throw new IllegalStateException("torch_bench.py failed with exit code " + rc + "; stdout: " + out);
    }
    String[] lines = out.split("\n");
    JsonObject r = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
    if (!r.get("available").getAsBoolean()) {
      System.out.println("PyTorch not available to " + PYTHON + " (" + r.get("reason").getAsString()
          + "): DJL numbers only (install Debian's python3-torch to compare).");
      return null;
    }
    System.out.printf(Locale.ROOT, "PyTorch %s (%s): %d intra-op thread(s), 1 inter-op; BLAS %s.%n",
        r.get("torch").getAsString(), PYTHON, r.get("threads").getAsInt(), r.get("blas").getAsString());
    return r;
  }

  private static Path torchScript() {
    String configured = System.getProperty("d4j.bench.torchScript");
    List<Path> candidates = configured != null ? List.of(Path.of(configured))
        : List.of(Path.of("bench/src/main/python/torch_bench.py"), Path.of("src/main/python/torch_bench.py"));
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c;
      }
    }
    throw new IllegalStateException("torch_bench.py not found at " + candidates
        + "; run through bin/bench or set -Dd4j.bench.torchScript=PATH");
  }

  private static void checkParameters(String name, long djl, JsonObject torch, String key) {
    if (torch == null) {
      System.out.printf(Locale.ROOT, "%s parameters: DJL %,d%n", name, djl);
      return;
    }
    long py = torch.getAsJsonObject("params").get(key).getAsLong();
    System.out.printf(Locale.ROOT, "%s parameters: DJL %,d, PyTorch %,d%n", name, djl, py);
    if (Math.abs(djl - py) > 0.01 * djl) {
      throw new IllegalStateException(String.format(Locale.ROOT, "PARAMETER COUNT MISMATCH for the %s: DJL %d vs "
          + "PyTorch %d (more than 1%% apart); torch_bench.py no longer mirrors the Java network", name, djl, py));
    }
  }

  private static Row row(String id, String what, int batch, double djlMs, JsonObject torch) {
    Double torchMs = torch == null ? null : torch.getAsJsonObject("ms").get(id).getAsDouble();
    return new Row(id, what, batch, djlMs, torchMs);
  }

  private static void print(List<Row> rows, JsonObject torch) {
    System.out.printf(Locale.ROOT, "%n%-20s %6s %12s %16s %12s %12s %16s%n", "case", "batch", "DJL ms/step",
        "PyTorch ms/step", "DJL/PyTorch", "DJL ex/s", "PyTorch ex/s");
    for (Row r : rows) {
      String torchMs = r.torchMs() == null ? "—" : String.format(Locale.ROOT, "%.1f", r.torchMs());
      String ratio = r.torchMs() == null ? "—" : String.format(Locale.ROOT, "%.2f", r.djlMs() / r.torchMs());
      String torchRate = r.torchMs() == null ? "—" : String.format(Locale.ROOT, "%.0f", 1e3 * r.batch() / r.torchMs());
      System.out.printf(Locale.ROOT, "%-20s %6d %12.1f %16s %12s %12.0f %16s%n", r.what(), r.batch(), r.djlMs(),
          torchMs, ratio, 1e3 * r.batch() / r.djlMs(), torchRate);
    }
    System.out.println("ex/s: examples (2-D points or 28×28 images) per second = batch / median step time.");
    Row unet = rows.stream().filter(r -> r.id().equals("unet-train")).findFirst().orElseThrow();
    System.out.printf(Locale.ROOT, "%nU-Net training throughput (DJL): %.1f images/s (batch %d, %.0f ms/step; "
        + "excludes the Trainer's gradient norm and EMA update).%n", 1e3 * unet.batch() / unet.djlMs(), unet.batch(),
        unet.djlMs());
    if (torch == null) {
      System.out.println("No PyTorch comparison: install Debian's python3-torch to compare.");
    }
  }
}
