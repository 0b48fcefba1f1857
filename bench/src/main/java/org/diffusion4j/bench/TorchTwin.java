package org.diffusion4j.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch twin ({@code bench/src/main/python/torch_bench.py --serve}) as a long-lived process that
 * answers one JSON line per request, so that its timings can be interleaved with ours in one run (on a
 * shared machine the load changes within a minute; timing one side after the other measures the load).
 */
final class TorchTwin implements AutoCloseable {
  /** Debian's interpreter, where {@code python3-torch} installs (override: {@code -Dd4j.bench.python}). */
  static final String PYTHON = System.getProperty("d4j.bench.python", "/usr/bin/python3");

  private final Process process;
  private final Writer in;
  private final BufferedReader reader;
  private final JsonObject hello;

  private TorchTwin(Process process, BufferedReader reader, JsonObject hello) {
    this.process = process;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.reader = reader;
    this.hello = hello;
  }

  /**
   * The twin's OpenMP waiting for the step-time benchmark: {@code D4J_TWIN_OMP_WAIT_POLICY} (default PASSIVE;
   * {@code unset} leaves it unset) and {@code D4J_TWIN_GOMP_SPINCOUNT} (default none), whatever the JVM side was
   * given. Debian's PyTorch multiplies matrices on OpenBLAS's own pthreads, which spin between calls by
   * themselves; spinning OpenMP threads beside them take the cores those need (measured: the twin's MLP
   * training step at 2 threads 44–49 ms passive, 137 ms with a 300 000 spin count), so passive is its best
   * for the MLP rows. (Its U-Net is faster spinning: see {@link #unetWaiting}.)
   */
  static Map<String, String> twinWaiting() {
    return waiting("PASSIVE", null);
  }

  /**
   * The twin's waiting when it trains the U-Net (the MNIST budget benchmark): its best there, spinning
   * ({@code GOMP_SPINCOUNT=300000}; measured 840 ms vs 1007–1367 ms passive per training step at 2 threads);
   * the same variables override it.
   */
  static Map<String, String> unetWaiting() {
    return waiting("unset", "300000");
  }

  private static Map<String, String> waiting(String defaultPolicy, String defaultSpin) {
    Map<String, String> env = new java.util.LinkedHashMap<>();
    String policy = System.getenv("D4J_TWIN_OMP_WAIT_POLICY");
    String spin = System.getenv("D4J_TWIN_GOMP_SPINCOUNT");
    boolean spinGiven = spin != null && !spin.isBlank();
    // A spin count of the user's own without a policy means: spin (no default policy on top of it).
    policy = policy == null || policy.isBlank() ? (spinGiven ? "unset" : defaultPolicy) : policy;
    if (!policy.equalsIgnoreCase("unset")) {
      env.put("OMP_WAIT_POLICY", policy);
    }
    spin = spinGiven ? spin : defaultSpin;
    if (spin != null && !env.containsKey("OMP_WAIT_POLICY")) {
      env.put("GOMP_SPINCOUNT", spin);
    }
    return env;
  }

  /**
   * The twin's environment: {@code threads} OpenMP threads and the given waiting, whatever the JVM side was
   * given; and glibc's allocator at its defaults. {@code bin/glibc-malloc} tunes glibc's malloc for the JVM
   * ({@code GLIBC_TUNABLES}), because libtorch allocates from a JVM thread's arena there; Python allocates
   * from the main arena, whose thresholds grow by themselves, so the twin keeps glibc's own behaviour. An
   * allocator preloaded into the JVM ({@code LD_PRELOAD}, e.g. tcmalloc by {@code bin/malloc}) is not preloaded
   * into the twin either: the twin is Debian's PyTorch as a user starts it.
   */
  static void twinEnvironment(ProcessBuilder pb, int threads, Map<String, String> waiting) {
    Map<String, String> env = pb.environment();
    env.put("OMP_NUM_THREADS", Integer.toString(threads));
    env.remove("GOMP_SPINCOUNT");
    env.remove("OMP_WAIT_POLICY");
    env.remove("GLIBC_TUNABLES");
    env.remove("LD_PRELOAD");
    env.putAll(waiting);
  }

  /**
   * Starts the twin with {@code maxThreads} OpenMP threads available (set lower per request); null when
   * Debian's PyTorch is absent (the reason is printed).
   */
  static TorchTwin start(int maxThreads, List<String> extraArgs) throws IOException {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      System.out.println("No " + PYTHON + ": DJL numbers only (install Debian's python3-torch to compare).");
      return null;
    }
    List<String> cmd = new java.util.ArrayList<>(List.of(PYTHON, script().toString(), "--serve", "--threads",
        Integer.toString(maxThreads)));
    cmd.addAll(extraArgs);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    twinEnvironment(pb, maxThreads, twinWaiting());
    pb.environment().put("MKL_NUM_THREADS", Integer.toString(maxThreads));
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    System.out.println("PyTorch twin: " + (twinWaiting().isEmpty() ? "OpenMP waiting unset" : twinWaiting())
        + ", " + String.join(" ", pb.command()));
    Process p = pb.start();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    if (line == null) {
      throw new IllegalStateException("torch_bench.py exited before answering (exit code " + waitFor(p) + ")");
    }
    JsonObject hello = JsonParser.parseString(line).getAsJsonObject();
    if (!hello.get("available").getAsBoolean()) {
      System.out.println("PyTorch not available to " + PYTHON + " (" + hello.get("reason").getAsString()
          + "): DJL numbers only (install Debian's python3-torch to compare).");
      waitFor(p);
      return null;
    }
    return new TorchTwin(p, r, hello);
  }

  private static int waitFor(Process p) {
    try {
      return p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  static Path script() {
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

  /** The first line: torch version, threads, BLAS, parameter counts. */
  JsonObject hello() {
    return hello;
  }

  /** The BLAS the twin's PyTorch resolves, as torch_bench.py describes it. */
  String blas() {
    return hello.get("blas").getAsString();
  }

  /** Whether that BLAS is netlib's reference implementation (which makes PyTorch look slow). */
  boolean referenceBlas() {
    String b = blas();
    return b.contains("reference") || b.contains("/blas/libblas");
  }

  JsonObject request(JsonObject req) throws IOException {
    in.write(req.toString());
    in.write('\n');
    in.flush();
    String line = reader.readLine();
    if (line == null) {
      throw new IllegalStateException("torch_bench.py exited during " + req + " (exit code " + waitFor(process) + ")");
    }
    JsonObject r = JsonParser.parseString(line).getAsJsonObject();
    if (r.has("error")) {
      throw new IllegalStateException("torch_bench.py: " + r.get("error").getAsString());
    }
    return r;
  }

  /** Sets the twin's intra-op threads (and OpenBLAS's own pool) to {@code n}. */
  void threads(int n) throws IOException {
    JsonObject req = new JsonObject();
    req.addProperty("cmd", "threads");
    req.addProperty("n", n);
    request(req);
  }

  /** {@code steps} step times in ms of {@code case} after {@code warmup} untimed steps. */
  double[] time(String kase, int warmup, int steps) throws IOException {
    JsonObject req = new JsonObject();
    req.addProperty("cmd", "time");
    req.addProperty("case", kase);
    req.addProperty("warmup", warmup);
    req.addProperty("steps", steps);
    JsonArray a = request(req).getAsJsonArray("ms");
    double[] ms = new double[a.size()];
    for (int i = 0; i < ms.length; i++) {
      ms[i] = a.get(i).getAsDouble();
    }
    return ms;
  }

  /** Profiles one step of {@code case} by phase; the answer lists per phase its trace file and wall ms. */
  JsonObject profile(String kase, Path dir) throws IOException {
    JsonObject req = new JsonObject();
    req.addProperty("cmd", "profile");
    req.addProperty("case", kase);
    req.addProperty("dir", dir.toString());
    return request(req);
  }

  @Override
  public void close() throws IOException {
    try {
      JsonObject req = new JsonObject();
      req.addProperty("cmd", "quit");
      in.write(req.toString());
      in.write('\n');
      in.flush();
      in.close();
    } catch (IOException ignored) {
      // already gone
    }
    waitFor(process);
  }
}
