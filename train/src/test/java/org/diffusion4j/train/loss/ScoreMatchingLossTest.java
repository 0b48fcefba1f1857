package org.diffusion4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.util.PairList;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.loop.Ema;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreMatchingLossTest {
  private static final double SIGMA = 0.4;
  private static final double[] MU = {0.7, -0.3};
  private static final double S = 0.5;

  @TempDir
  Path dir;

  /** An affine raw network F(z) = W z + b on 2-D points, ignoring the noise input. */
  static final class Affine extends AbstractBlock {
    final Parameter w;
    final Parameter b;

    Affine(float[] w0, float[] b0) {
      w = addParameter(Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optShape(new Shape(2, 2))
          .optInitializer(new ConstantInitializer(0)).build());
      b = addParameter(Parameter.builder().setName("b").setType(Parameter.Type.BIAS).optShape(new Shape(2))
          .optInitializer(new ConstantInitializer(0)).build());
      this.w0 = w0;
      this.b0 = b0;
    }

    private final float[] w0;
    private final float[] b0;

    void init(NDManager m) {
      initialize(m, DataType.FLOAT32, new Shape(4, 2), new Shape(4));
      w.getArray().set(w0);
      b.getArray().set(b0);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
      NDArray x = in.get(0);
      NDArray wv = ps.getValue(w, x.getDevice(), training);
      NDArray bv = ps.getValue(b, x.getDevice(), training);
      return new NDList(x.matMul(wv.transpose()).add(bv));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
      return new Shape[] {inputShapes[0]};
    }
  }

  private static Objective fixedSigma(String id) {
    // VE preconditioning: D = x̂ + σ F(x̂), so the model's score is s = F/σ; λ = 1/σ².
    return new Objective(id, new Preconditioning.Ve(), s -> 1 / (s * s), new SigmaDraw.LogUniform(SIGMA, SIGMA));
  }

  @Test
  void lossValuesEqualTheirDefinitionOnHandMadeTensors() {
    float[] w = {-0.8f, 0.3f, 0.1f, -0.5f};
    float[] b = {0.2f, -0.1f};
    float[] x = {0.3f, -0.7f, 1.1f, 0.2f, -0.4f, 0.9f};
    try (NDManager m = NDManager.newBaseManager()) {
      for (ScoreMatchingLoss loss : new ScoreMatchingLoss[] {ScoreMatchingLoss.explicit(fixedSigma("ism")),
          new ScoreMatchingLoss(fixedSigma("ssm"), Trainer.MODEL, 3, true)}) {
        Affine f = new Affine(w, b);
        f.init(m);
        NetworkDenoiser net = new NetworkDenoiser(f, new Preconditioning.Ve());
        NDArray x0 = m.create(x, new Shape(3, 2));
        StepContext ctx = new StepContext(m, new SplittableRandom(5), 0, new DataSource.Batch(x0, null),
            new ParameterStore(m, false), Map.of(Trainer.MODEL, net), Map.of(), name -> null);
        double got;
        try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
          got = loss.compute(ctx).loss().getFloat();
        }
        // The same draws by hand: σ, then ε, then (sliced) the probes.
        SplittableRandom r = new SplittableRandom(5);
        r.nextDouble();
        r.nextDouble();
        r.nextDouble();
        double[] eps = new double[6];
        for (int i = 0; i < 6; i++) {
          eps[i] = (float) r.nextGaussian();
        }
        double want = 0;
        double[][] probes = new double[9][2];
        for (int p = 0; p < 3; p++) {
          for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
              probes[p * 3 + i][j] = loss.probes() == 0 ? 0 : (float) r.nextGaussian();
            }
          }
        }
        for (int i = 0; i < 3; i++) {
          double[] xh = {x[2 * i] + SIGMA * (float) eps[2 * i], x[2 * i + 1] + SIGMA * (float) eps[2 * i + 1]};
          // D − x̂ = σ (W x̂ + b); ∂D/∂x̂ = I + σ W.
          double sq = 0;
          for (int j = 0; j < 2; j++) {
            double fj = w[2 * j] * xh[0] + w[2 * j + 1] * xh[1] + b[j];
            sq += SIGMA * SIGMA * fj * fj;
          }
          double tr;
          if (loss.probes() == 0) {
            tr = 2 + SIGMA * (w[0] + w[3]);
          } else {
            tr = 0;
            for (int p = 0; p < 3; p++) {
              double[] u = probes[p * 3 + i];
              double ju0 = u[0] + SIGMA * (w[0] * u[0] + w[1] * u[1]);
              double ju1 = u[1] + SIGMA * (w[2] * u[0] + w[3] * u[1]);
              tr += (u[0] * ju0 + u[1] * ju1) / 3;
            }
          }
          // ℓ = (λ/d)(‖D − x̂‖² + 2σ² tr ∂D/∂x̂ − σ² d), λ = 1/σ².
          want += (sq + 2 * SIGMA * SIGMA * tr - SIGMA * SIGMA * 2) / (SIGMA * SIGMA) / 2 / 3;
          // = (2λσ⁴/d)(tr ∇s + ½‖s‖²) + λσ² with s = F = (D − x̂)/σ² · σ: Hyvärinen's objective, rescaled.
        }
        assertEquals(want, got, 1e-5 * (1 + Math.abs(want)), "probes " + loss.probes());
      }
    }
  }

  private static final GaussianMixture DATA = GaussianMixture.gaussian(MU, S);

  private static DataSource.Batch gaussian(NDManager m, int n, SplittableRandom rng) {
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = rng.nextLong();
    }
    return new DataSource.Batch(m.create(DATA.sample(seeds, 0), new Shape(n, 2)).toType(DataType.FLOAT32, false), null);
  }

  /** The loss's gradient in (W, b) at θ on a fixed batch and fixed draws (the loss is quadratic in θ). */
  private static double[] gradient(NDManager m, ScoreMatchingLoss loss, double[] theta, DataSource.Batch batch) {
    float[] w = new float[4];
    float[] b = new float[2];
    for (int i = 0; i < 4; i++) {
      w[i] = (float) theta[i];
    }
    b[0] = (float) theta[4];
    b[1] = (float) theta[5];
    Affine f = new Affine(w, b);
    f.init(m);
    NetworkDenoiser net = new NetworkDenoiser(f, new Preconditioning.Ve());
    StepContext ctx = new StepContext(m, new SplittableRandom(99), 0, batch, new ParameterStore(m, false),
        Map.of(Trainer.MODEL, net), Map.of(), name -> null);
    try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
      gc.backward(loss.compute(ctx).loss());
    }
    float[] gw = f.w.getArray().getGradient().toFloatArray();
    float[] gb = f.b.getArray().getGradient().toFloatArray();
    return new double[] {gw[0], gw[1], gw[2], gw[3], gb[0], gb[1]};
  }

  @Test
  void onAGaussianTheMinimiserIsTheExactScore() {
    // Data N(μ, S² I): p_σ = N(μ, (S² + σ²) I) with score −(x̂ − μ)/(S² + σ²); with s = F/σ the optimal affine
    // F has W = −σ/(S² + σ²)·I and b = σμ/(S² + σ²). The loss is quadratic in θ = (W, b): its minimiser on a
    // fixed batch is θ* = −H⁻¹ g(0), with H's columns g(e_k) − g(0).
    double v = S * S + SIGMA * SIGMA;
    double[] want = {-SIGMA / v, 0, 0, -SIGMA / v, SIGMA * MU[0] / v, SIGMA * MU[1] / v};
    for (ScoreMatchingLoss loss : new ScoreMatchingLoss[] {ScoreMatchingLoss.explicit(fixedSigma("ism")),
        ScoreMatchingLoss.sliced(fixedSigma("ssm"), 4)}) {
      try (NDManager m = NDManager.newBaseManager()) {
        DataSource.Batch batch = gaussian(m, 20_000, new SplittableRandom(7));
        double[] g0 = gradient(m, loss, new double[6], batch);
        double[][] h = new double[6][7];
        for (int k = 0; k < 6; k++) {
          double[] e = new double[6];
          e[k] = 1;
          double[] gk = gradient(m, loss, e, batch);
          for (int r = 0; r < 6; r++) {
            h[r][k] = gk[r] - g0[r];
          }
        }
        for (int r = 0; r < 6; r++) {
          h[r][6] = -g0[r];
        }
        double[] theta = solve(h);
        String got = java.util.Arrays.toString(theta) + " want " + java.util.Arrays.toString(want);
        for (int i = 0; i < 6; i++) {
          assertEquals(want[i], theta[i], 0.03, "probes " + loss.probes() + ": " + got);
        }
      }
    }
  }

  @Test
  void thePluggableTrainerLearnsTheScoreWithIt() throws Exception {
    double v = S * S + SIGMA * SIGMA;
    try (NDManager m = NDManager.newBaseManager()) {
      Affine f = new Affine(new float[4], new float[2]);
      f.init(m);
      Trainer.Options o = new Trainer.Options(150, 256, 1, LrSchedule.constant(0.05, 10), 10.0, new Ema.WarmUp(0.99),
          3, 50, 150);
      new Trainer(Map.of(Trainer.MODEL, new NetworkDenoiser(f, new Preconditioning.Ve())), Map.of(), Map.of(),
          ScoreMatchingLoss.sliced(fixedSigma("ssm"), 1), ScoreMatchingLossTest::gaussian, o, dir, "{}", null)
          .run(false);
      float[] w = f.w.getArray().toFloatArray();
      assertEquals(-SIGMA / v, w[0], 0.15 * SIGMA / v, java.util.Arrays.toString(w));
      assertEquals(-SIGMA / v, w[3], 0.15 * SIGMA / v, java.util.Arrays.toString(w));
    }
  }

  /** Gaussian elimination with partial pivoting of an augmented n × (n+1) system. */
  private static double[] solve(double[][] a) {
    int n = a.length;
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(a[r][c]) > Math.abs(a[p][c])) {
          p = r;
        }
      }
      double[] t = a[c];
      a[c] = a[p];
      a[p] = t;
      for (int r = 0; r < n; r++) {
        if (r != c) {
          double q = a[r][c] / a[c][c];
          for (int k = c; k <= n; k++) {
            a[r][k] -= q * a[c][k];
          }
        }
      }
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = a[i][n] / a[i][i];
    }
    return x;
  }

  @Test
  void badConfigurationsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new ScoreMatchingLoss(fixedSigma("x"), Trainer.MODEL, -1, false));
    assertThrows(IllegalArgumentException.class, () -> new ScoreMatchingLoss(fixedSigma("x"), Trainer.MODEL, 0, true));
    assertThrows(IllegalArgumentException.class, () -> ScoreMatchingLoss.sliced(fixedSigma("x"), 0));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = m.zeros(new Shape(2, 100));
      StepContext ctx = new StepContext(m, new SplittableRandom(1), 0, new DataSource.Batch(x0, null),
          new ParameterStore(m, false), Map.of(), Map.of(), name -> null);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ScoreMatchingLoss.explicit(fixedSigma("ism")).compute(ctx));
      assertTrue(e.getMessage().contains("use sliced score matching"), e.getMessage());
    }
  }
}
