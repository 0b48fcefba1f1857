package org.diffusion4j.train.autodiff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NoiseEmbedding;
import org.diffusion4j.train.nn.UNetConfig;
import org.junit.jupiter.api.Test;

class JvpTest {

  // ---- A hand-written float64 MLP with a host-side analytic Jacobian. ----

  /** F(x, t) = W₃ tanh(W₂ tanh(W₁x + a·t + b₁) + b₂) + b₃, x ∈ R³, hidden 5, F ∈ R³. */
  static final class TanhMlp {
    static final int D = 3;
    static final int H = 5;
    final double[][] w1 = new double[D][H];
    final double[] a = new double[H];
    final double[] b1 = new double[H];
    final double[][] w2 = new double[H][H];
    final double[] b2 = new double[H];
    final double[][] w3 = new double[H][D];
    final double[] b3 = new double[D];

    TanhMlp(long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      fill(w1, r, 0.8);
      fill(a, r, 0.8);
      fill(b1, r, 0.3);
      fill(w2, r, 0.6);
      fill(b2, r, 0.3);
      fill(w3, r, 0.8);
      fill(b3, r, 0.3);
    }

    private static void fill(double[][] m, SplittableRandom r, double s) {
      for (double[] row : m) {
        fill(row, r, s);
      }
    }

    private static void fill(double[] v, SplittableRandom r, double s) {
      for (int i = 0; i < v.length; i++) {
        v[i] = s * r.nextGaussian();
      }
    }

    /** The same function with NDArray ops. */
    Jvp.Fn fn(NDManager m) {
      NDArray mw1 = m.create(w1);
      NDArray ma = m.create(a).reshape(1, H);
      NDArray mb1 = m.create(b1);
      NDArray mw2 = m.create(w2);
      NDArray mb2 = m.create(b2);
      NDArray mw3 = m.create(w3);
      NDArray mb3 = m.create(b3);
      return (x, t) -> {
        NDArray h1 = x.matMul(mw1).add(t.reshape(-1, 1).mul(ma)).add(mb1).tanh();
        NDArray h2 = h1.matMul(mw2).add(mb2).tanh();
        return h2.matMul(mw3).add(mb3);
      };
    }

    /** Row i of F and of dF·(v, w) on the host: {value, tangent}. */
    double[][] host(double[] x, double t, double[] v, double w) {
      double[] h1 = new double[H];
      double[] dh1 = new double[H];
      for (int j = 0; j < H; j++) {
        double z = a[j] * t + b1[j];
        double dz = a[j] * w;
        for (int i = 0; i < D; i++) {
          z += x[i] * w1[i][j];
          dz += v[i] * w1[i][j];
        }
        h1[j] = Math.tanh(z);
        dh1[j] = (1 - h1[j] * h1[j]) * dz;
      }
      double[] h2 = new double[H];
      double[] dh2 = new double[H];
      for (int j = 0; j < H; j++) {
        double z = b2[j];
        double dz = 0;
        for (int i = 0; i < H; i++) {
          z += h1[i] * w2[i][j];
          dz += dh1[i] * w2[i][j];
        }
        h2[j] = Math.tanh(z);
        dh2[j] = (1 - h2[j] * h2[j]) * dz;
      }
      double[] f = new double[D];
      double[] df = new double[D];
      for (int j = 0; j < D; j++) {
        f[j] = b3[j];
        for (int i = 0; i < H; i++) {
          f[j] += h2[i] * w3[i][j];
          df[j] += dh2[i] * w3[i][j];
        }
      }
      return new double[][] {f, df};
    }
  }

  private static double[] gaussians(SplittableRandom r, int n, double scale) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = scale * r.nextGaussian();
    }
    return v;
  }

  /** Max over entries of |got − want| / (1 + |want|). */
  private static double maxRelErr(double[] got, double[] want) {
    assertEquals(want.length, got.length);
    double e = 0;
    for (int i = 0; i < got.length; i++) {
      e = Math.max(e, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    }
    return e;
  }

  /** ‖got − want‖₂ / ‖want‖₂. */
  private static double relL2(double[] got, double[] want) {
    double num = 0;
    double den = 0;
    for (int i = 0; i < got.length; i++) {
      num += (got[i] - want[i]) * (got[i] - want[i]);
      den += want[i] * want[i];
    }
    return Math.sqrt(num / den);
  }

  private static double[] host(NDArray a) {
    return a.toType(DataType.FLOAT64, false).toDoubleArray();
  }

  /** Checks one method against the analytic JVP for three tangents: (v, w), (v, 0) and (0, w). */
  private static void checkAnalytic(Jvp.Method method, double tolerance) {
    TanhMlp f = new TanhMlp(7);
    int n = 64;
    SplittableRandom r = new SplittableRandom(11);
    double[] x = gaussians(r, n * TanhMlp.D, 1.0);
    double[] t = gaussians(r, n, 1.0);
    double[] v = gaussians(r, n * TanhMlp.D, 1.0);
    double[] w = gaussians(r, n, 1.0);
    double[] zeroV = new double[v.length];
    double[] zeroW = new double[w.length];
    try (NDManager m = NDManager.newBaseManager()) {
      Jvp.Fn fn = f.fn(m);
      Jvp j = make(method, fn);
      NDArray xs = m.create(x, new Shape(n, TanhMlp.D));
      NDArray ts = m.create(t);
      double[][] tangents = {v, zeroV, v};
      double[][] timeTangents = {w, w, zeroW};
      for (int c = 0; c < 3; c++) {
        double[] vc = tangents[c];
        double[] wc = timeTangents[c];
        try (Jvp.Result res = j.apply(xs, ts, m.create(vc, new Shape(n, TanhMlp.D)), m.create(wc))) {
          assertEquals(DataType.FLOAT64, res.tangent().getDataType());
          assertEquals(new Shape(n, TanhMlp.D), res.tangent().getShape());
          double[] wantF = new double[n * TanhMlp.D];
          double[] wantJ = new double[n * TanhMlp.D];
          for (int i = 0; i < n; i++) {
            double[][] h = f.host(slice(x, i), t[i], slice(vc, i), wc[i]);
            System.arraycopy(h[0], 0, wantF, i * TanhMlp.D, TanhMlp.D);
            System.arraycopy(h[1], 0, wantJ, i * TanhMlp.D, TanhMlp.D);
          }
          double valueErr = maxRelErr(host(res.value()), wantF);
          double tangentErr = maxRelErr(host(res.tangent()), wantJ);
          System.out.printf(Locale.ROOT, "%s tanh MLP float64, tangent %d: value err %.2e, JVP err %.2e%n",
              j.method(), c, valueErr, tangentErr);
          assertTrue(valueErr <= 1e-14, "value error " + valueErr);
          assertTrue(tangentErr <= tolerance, j.method() + " JVP error " + tangentErr + " > " + tolerance);
        }
      }
    }
  }

  private static double[] slice(double[] a, int row) {
    double[] s = new double[TanhMlp.D];
    System.arraycopy(a, row * TanhMlp.D, s, 0, TanhMlp.D);
    return s;
  }

  @Test
  void doubleBackwardMatchesTheAnalyticJacobianInFloat64() {
    assertTrue(Jvp.doubleBackwardAvailable(), "PyTorch runs the double-backward method");
    // Exact up to rounding: tolerance 1e-12 (measured 1.1e-15).
    checkAnalytic(Jvp.Method.DOUBLE_BACKWARD, 1e-12);
  }

  @Test
  void finiteDifferenceMatchesTheAnalyticJacobianInFloat64() {
    // h = ε^(1/3)·scale ≈ 6e-6·scale: truncation h²|F'''|/6 plus rounding ε|F|/h; measured 4e-10,
    // tolerance 1e-8.
    checkAnalytic(Jvp.Method.FINITE_DIFFERENCE, 1e-8);
  }

  @Test
  void linearAndConstantFunctionsGiveExactTangents() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.randomNormal(new Shape(4, 3)).toType(DataType.FLOAT64, false);
      NDArray t = m.randomNormal(new Shape(4)).toType(DataType.FLOAT64, false);
      NDArray v = m.randomNormal(new Shape(4, 3)).toType(DataType.FLOAT64, false);
      NDArray w = m.randomNormal(new Shape(4)).toType(DataType.FLOAT64, false);
      NDArray constant = m.ones(new Shape(4, 3), DataType.FLOAT64);
      for (Jvp.Method method : Jvp.Method.values()) {
        // t unused: its gradient is absent, not an error.
        Jvp.Fn linear = (a, b) -> a.mul(3);
        try (Jvp.Result r = make(method, linear).apply(x, t, v, w)) {
          assertArrayEquals(host(v.mul(3)), host(r.tangent()), 1e-9, method + " tangent of 3x");
        }
        // x unused.
        Jvp.Fn timeOnly = (a, b) -> b.reshape(4, 1).mul(a.zerosLike().add(2));
        try (Jvp.Result r = make(method, timeOnly).apply(x, t, v, w)) {
          assertArrayEquals(host(w.reshape(4, 1).mul(constant).mul(2)), host(r.tangent()), 1e-9,
              method + " tangent of 2t");
        }
        // Neither used: zero tangent, value passed through.
        try (Jvp.Result r = make(method, (a, b) -> constant).apply(x, t, v, w)) {
          assertArrayEquals(new double[12], host(r.tangent()), 0.0, method + " tangent of a constant");
          assertArrayEquals(host(constant), host(r.value()), 0.0);
        }
        // Zero tangent direction.
        try (Jvp.Result r = make(method, linear).apply(x, t, v.zerosLike(), w.zerosLike())) {
          assertArrayEquals(new double[12], host(r.tangent()), 0.0, method + " zero direction");
        }
      }
    }
  }

  private static Jvp make(Jvp.Method method, Jvp.Fn fn) {
    return method == Jvp.Method.DOUBLE_BACKWARD ? Jvp.doubleBackward(fn) : Jvp.finiteDifference(fn);
  }

  // ---- The project's networks. ----

  static UNetConfig tinyUNet() {
    // Base 8, levels {28, 14, 7}, attention at 7, no dropout (the finite difference needs F deterministic).
    return new UNetConfig(1, 28, 8, new int[] {1, 2, 2}, 1, new int[] {7}, 0.0, 0, 2,
        NoiseEmbedding.Kind.SINUSOIDAL, UNetConfig.Downsample.CONV);
  }

  /** Makes the near-zero last layers of residual branches visible, so the whole network matters. */
  static void wakeResidualBranches(Block net, NDManager m) {
    for (Pair<String, Parameter> p : net.getParameters()) {
      NDArray a = p.getValue().getArray();
      if (a.getShape().dimension() > 1 && a.abs().max().getFloat() < 1e-3f) {
        a.set(m.randomNormal(a.getShape()).mul(0.2f).toFloatArray());
      }
    }
  }

  @Test
  void doubleBackwardAgreesWithACentralDifferenceOnTheUNetInFloat32() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(5);
      Shape shape = new Shape(4, 1, 28, 28);
      Block net = tinyUNet().build();
      net.initialize(m, DataType.FLOAT32, shape);
      wakeResidualBranches(net, m);
      Jvp.Fn fn = Jvp.Fn.of(net, new ParameterStore(m, false), false, null);
      // Earlier calls on functions that ignore an input, other shapes and another dtype: once made
      // the same TorchScript module return NaN or O(1)-wrong U-Net tangents.
      NDArray x6 = m.randomNormal(new Shape(4, 3)).toType(DataType.FLOAT64, false);
      NDArray t6 = m.randomNormal(new Shape(4)).toType(DataType.FLOAT64, false);
      NDArray c6 = x6.onesLike();
      for (int i = 0; i < 4; i++) {
        Jvp.doubleBackward((a, b) -> a.mul(3)).apply(x6, t6, x6, t6).close();
        Jvp.doubleBackward((a, b) -> b.reshape(4, 1).mul(a.zerosLike().add(2))).apply(x6, t6, x6, t6).close();
        Jvp.doubleBackward((a, b) -> c6).apply(x6, t6, x6, t6).close();
      }
      NDArray x = m.randomNormal(shape);
      NDArray t = m.randomNormal(new Shape(4)).mul(0.5f);
      NDArray v = m.randomNormal(shape);
      NDArray w = m.randomNormal(new Shape(4));
      try (Jvp.Result exact = Jvp.doubleBackward(fn).apply(x, t, v, w);
          Jvp.Result fd = Jvp.finiteDifference(fn).apply(x, t, v, w)) {
        double[] e = host(exact.tangent());
        double[] d = host(fd.tangent());
        double rel = relL2(e, d);
        System.out.printf(Locale.ROOT, "U-Net float32: |JVP_exact - JVP_fd| / |JVP_fd| = %.2e (|JVP| rms %.3g)%n",
            rel, Math.sqrt(dot(d, d) / d.length));
        // Measured 1.6e-4 (the float32 central difference's own error at h = 4.9e-3·scale); tolerance
        // 2e-3. A broken JVP (zero, NaN, a wrong path) is off by O(1).
        assertTrue(rel < 2e-3, "relative difference " + rel);
        assertArrayEquals(host(fd.value()), host(exact.value()), 1e-6, "the two values agree");
        assertTrue(dot(d, d) > 0, "a non-trivial tangent");
      }
    }
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  // ---- Inside and outside a training step's GradientCollector. ----

  private static List<double[]> gradients(Block net) {
    List<double[]> g = new ArrayList<>();
    for (Pair<String, Parameter> p : net.getParameters()) {
      g.add(host(p.getValue().getArray().getGradient()));
    }
    return g;
  }

  private static void zeroGradients(Block net) {
    for (Pair<String, Parameter> p : net.getParameters()) {
      try (NDArray g = p.getValue().getArray().getGradient()) {
        g.subi(g);
      }
    }
  }

  /** loss = mean((F(x, t) − target)²), target a constant. */
  private static NDArray loss(Jvp.Fn fn, NDArray x, NDArray t, NDArray target) {
    return fn.apply(x, t).sub(target).square().mean();
  }

  @Test
  void insideAnOpenCollectorTheJvpIsAConstantAndLeavesParameterGradientsAlone() {
    for (Jvp.Method method : Jvp.Method.values()) {
      try (NDManager m = NDManager.newBaseManager()) {
        Engine.getInstance().setRandomSeed(3);
        Block net = new MlpConfig(2, 32, 2, 16, 0).build();
        Shape shape = new Shape(64, 2);
        net.initialize(m, DataType.FLOAT32, shape);
        wakeResidualBranches(net, m);
        ParameterStore ps = new ParameterStore(m, false);
        Jvp.Fn fn = Jvp.Fn.of(net, ps, true, null);
        Jvp jvp = make(method, fn);
        NDArray x = m.randomNormal(shape);
        NDArray t = m.randomNormal(new Shape(64));
        NDArray v = m.randomNormal(shape);
        NDArray w = m.ones(new Shape(64));
        zeroGradients(net);

        // Outside any collector: grad mode is off before and after.
        assertFalse(TorchAutograd.gradMode());
        double[] outsideValue;
        double[] outsideTangent;
        NDArray target;
        try (Jvp.Result r = jvp.apply(x, t, v, w)) {
          assertFalse(TorchAutograd.gradMode(), "grad mode restored (off)");
          outsideValue = host(r.value());
          outsideTangent = host(r.tangent());
          target = r.value().add(r.tangent().mul(0.1f));
        }
        for (double[] g : gradients(net)) {
          assertArrayEquals(new double[g.length], g, 0.0, method + ": a JVP outside a collector writes no gradient");
        }

        // Reference: the loss with the target supplied from outside.
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(loss(fn, x, t, target));
        }
        List<double[]> reference = gradients(net);
        zeroGradients(net);

        // The same step with the JVP taken inside the collector, after and before the loss's forward.
        for (boolean jvpFirst : new boolean[] {false, true}) {
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            assertThrows(IllegalStateException.class, () -> Engine.getInstance().newGradientCollector(),
                "DJL's PyTorch collectors do not nest");
            NDArray y = jvpFirst ? null : fn.apply(x, t);
            NDArray inside;
            try (Jvp.Result r = jvp.apply(x, t, v, w)) {
              assertTrue(TorchAutograd.gradMode(), "grad mode restored (on)");
              assertArrayEquals(outsideValue, host(r.value()), 0.0, method + " value inside = outside");
              assertArrayEquals(outsideTangent, host(r.tangent()), 0.0, method + " tangent inside = outside");
              inside = r.value().add(r.tangent().mul(0.1f));
            }
            if (jvpFirst) {
              y = fn.apply(x, t);
            }
            gc.backward(y.sub(inside).square().mean());
          }
          List<double[]> got = gradients(net);
          double worst = 0;
          for (int i = 0; i < got.size(); i++) {
            double[] a = got.get(i);
            double[] b = reference.get(i);
            for (int k = 0; k < a.length; k++) {
              worst = Math.max(worst, Math.abs(a[k] - b[k]));
            }
          }
          System.out.printf(Locale.ROOT, "%s inside a collector (%s the forward): max |grad - reference| = %.1e%n",
              method, jvpFirst ? "before" : "after", worst);
          // Bit for bit: the JVP's passes write no parameter gradient, and its results carry no graph
          // (a graph back to the parameters would add its own terms to these gradients).
          assertEquals(0.0, worst, method + ": parameter gradients polluted by the JVP");
          zeroGradients(net);
        }
        assertTrue(reference.stream().anyMatch(g -> dot(g, g) > 0), "the loss has gradients");
        zeroGradients(net);
      }
    }
  }

  // ---- Memory. ----

  /** Resident memory after a collection (Java garbage holding native memory would otherwise show). */
  static long residentKb() throws IOException {
    System.gc();
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  @Test
  void liveArraysAndResidentMemoryStayFlatOver200Calls() throws IOException {
    for (Jvp.Method method : Jvp.Method.values()) {
      try (NDManager m = NDManager.newBaseManager()) {
        Block net = MlpConfig.toy(2).build();
        Shape shape = new Shape(128, 2);
        net.initialize(m, DataType.FLOAT32, shape);
        Jvp jvp = make(method, Jvp.Fn.of(net, new ParameterStore(m, false), true, null));
        NDArray x = m.randomNormal(shape);
        NDArray t = m.randomNormal(new Shape(128));
        NDArray v = m.randomNormal(shape);
        NDArray w = m.ones(new Shape(128));
        double[] first = null;
        int live50 = 0;
        long rss50 = 0;
        for (int i = 1; i <= 200; i++) {
          try (NDScope scope = new NDScope(); GradientCollector gc = i % 2 == 0
              ? Engine.getInstance().newGradientCollector() : null) {
            scope.suppressNotUsedWarning();
            // Inside a collector on even calls; results left to the scope on multiples of 3.
            Jvp.Result r = jvp.apply(x, t, v, w);
            if (first == null) {
              first = host(r.tangent());
            }
            if (i == 200) {
              assertArrayEquals(first, host(r.tangent()), 0.0, method + ": call 200 = call 1");
            }
            if (i % 3 != 0) {
              r.close();
            }
          }
          if (i == 50) {
            live50 = m.getManagedArrays().size();
            rss50 = residentKb();
          }
        }
        int live200 = m.getManagedArrays().size();
        long rss200 = residentKb();
        System.out.printf(Locale.ROOT, "%s: live arrays after 50 calls %d, after 200 %d; resident %d MB -> %d MB%n",
            method, live50, live200, rss50 / 1024, rss200 / 1024);
        assertEquals(live50, live200, method + ": live arrays grew");
        // A leaking double-backward (graph-carrying .grad cycle) loses several MB per call here, GBs in
        // all; measured growth after a GC is a few MB (flat over 3000 calls), allocator noise tens.
        assertTrue(rss200 - rss50 < 64 * 1024, method + ": resident memory grew by " + (rss200 - rss50) + " kB");
      }
    }
  }

  // ---- Arguments. ----

  @Test
  void badArgumentsAreNamed() {
    try (NDManager m = NDManager.newBaseManager()) {
      Jvp jvp = Jvp.of((x, t) -> x.mul(2));
      NDArray x = m.randomNormal(new Shape(3, 2));
      NDArray t = m.zeros(new Shape(3));
      NDArray v = m.randomNormal(new Shape(3, 2));
      NDArray w = m.zeros(new Shape(3));
      assertMessage(() -> jvp.apply(x, m.zeros(new Shape(4)), v, w), "t must be [n] = [3]");
      assertMessage(() -> jvp.apply(x, t, m.zeros(new Shape(3, 3)), w), "v must have x's shape");
      assertMessage(() -> jvp.apply(x, t, v, m.zeros(new Shape(2))), "w must have t's shape");
      assertMessage(() -> jvp.apply(x, t, v.toType(DataType.FLOAT64, false), w), "dtypes of x");
      assertMessage(() -> jvp.apply(x.toType(DataType.INT32, false), t, v.toType(DataType.INT32, false), w),
          "floating-point");
      assertMessage(() -> jvp.apply(x, t, null, w), "null for v");
      assertMessage(() -> jvp.apply(m.zeros(new Shape()), t, v, w), "scalar");
      NDArray nanV = v.duplicate();
      nanV.set(new float[] {0, Float.NaN, 0, 0, 0, 0});
      assertMessage(() -> jvp.apply(x, t, nanV, w), "v (3, 2) has a NaN or infinite entry");
      NDArray infT = m.create(new float[] {0, Float.POSITIVE_INFINITY, 0});
      assertMessage(() -> jvp.apply(x, infT, v, w), "t (3) has a NaN or infinite entry");
      NDArray infX = x.duplicate();
      infX.set(new float[] {Float.NEGATIVE_INFINITY, 0, 0, 0, 0, 0});
      assertMessage(() -> Jvp.finiteDifference((a, b) -> a).apply(infX, t, v, w), "x (3, 2) has a NaN");
      for (double bad : new double[] {0, -1e-3, Double.NaN, Double.POSITIVE_INFINITY}) {
        assertMessage(() -> Jvp.finiteDifference((a, b) -> a, bad), "relativeStep must be finite and > 0");
      }
      assertMessage(() -> Jvp.of(null), "got null");
      assertMessage(() -> Jvp.finiteDifference((a, b) -> null).apply(x, t, v, w), "returned null");
      // A failed call leaves grad mode as it was and leaks nothing.
      assertFalse(TorchAutograd.gradMode());
      int live = m.getManagedArrays().size();
      assertMessage(() -> Jvp.doubleBackward((a, b) -> {
        throw new IllegalArgumentException("network failed");
      }).apply(x, t, v, w), "network failed");
      assertFalse(TorchAutograd.gradMode(), "grad mode restored after a failure");
      assertEquals(live, m.getManagedArrays().size(), "intermediates of a failed call are closed");
      assertEquals(Math.ulp(1.0f), Jvp.machineEpsilon(DataType.FLOAT32));
      assertEquals(Jvp.Method.DOUBLE_BACKWARD, jvp.method(), "the default on PyTorch");
    }
  }

  private static void assertMessage(Runnable call, String fragment) {
    RuntimeException e = assertThrows(RuntimeException.class, call::run);
    assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
        "message '" + e.getMessage() + "' should contain '" + fragment + "'");
  }
}
