package org.diffusion4j.guidance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.Processes;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.junit.jupiter.api.Test;

/** ΠGDM against the exact Gaussian posterior, on a mixture, and its conjugate gradients against a direct solve. */
class PseudoinverseGuidanceTest {
  private static final double S = 0.5;
  private static final int D = 16;

  /** The exact denoiser of N(μ, S² I) on [1, 4, 4] images, in NDArray operations (differentiable). */
  private static Denoiser gaussian(double[] mu) {
    return GaussianImages.denoiser(mu, S, 4);
  }

  private static double[] mu() {
    double[] mu = new double[D];
    for (int i = 0; i < D; i++) {
      mu[i] = Math.sin(i);
    }
    return mu;
  }

  /** A as a dense matrix [m][16], column j = A(e_j). */
  private static double[][] dense(MeasurementOperator a) {
    try (NDManager m = NDManager.newBaseManager()) {
      double[] eye = new double[D * D];
      for (int j = 0; j < D; j++) {
        eye[j * D + j] = 1;
      }
      double[] cols = a.apply(m.create(eye, new Shape(D, 1, 4, 4))).toDoubleArray();
      int rows = cols.length / D;
      double[][] out = new double[rows][D];
      for (int j = 0; j < D; j++) {
        for (int i = 0; i < rows; i++) {
          out[i][j] = cols[j * rows + i];
        }
      }
      return out;
    }
  }

  /** Gaussian elimination with partial pivoting. */
  static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = java.util.Arrays.copyOf(a[i], n + 1);
      m[i][n] = b[i];
    }
    for (int c = 0; c < n; c++) {
      int p = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(m[r][c]) > Math.abs(m[p][c])) {
          p = r;
        }
      }
      double[] t = m[c];
      m[c] = m[p];
      m[p] = t;
      for (int r = c + 1; r < n; r++) {
        double f = m[r][c] / m[c][c];
        for (int k = c; k <= n; k++) {
          m[r][k] -= f * m[c][k];
        }
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = m[r][n];
      for (int k = r + 1; k < n; k++) {
        s -= m[r][k] * x[k];
      }
      x[r] = s / m[r][r];
    }
    return x;
  }

  /**
   * The exact E[x0 | x̂, y] for x0 ~ N(μ, S² I), x̂ = x0 + σ ε, y = A x0 + σ_y z, in information form:
   * (I/S² + I/σ² + AᵀA/σ_y²)⁻¹ (μ/S² + x̂/σ² + Aᵀy/σ_y²).
   */
  private static double[] exactPosteriorMean(double[][] a, double[] y, double sy, double[] mu, double[] x, double s) {
    double[][] p = new double[D][D];
    double[] h = new double[D];
    for (int i = 0; i < D; i++) {
      p[i][i] = 1 / (S * S) + 1 / (s * s);
      h[i] = mu[i] / (S * S) + x[i] / (s * s);
      for (int r = 0; r < a.length; r++) {
        h[i] += a[r][i] * y[r] / (sy * sy);
        for (int j = 0; j < D; j++) {
          p[i][j] += a[r][i] * a[r][j] / (sy * sy);
        }
      }
    }
    return solve(p, h);
  }

  private static MeasurementOperator randomMatrix(int rows, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[][] a = new double[rows][D];
    for (double[] row : a) {
      for (int j = 0; j < D; j++) {
        row[j] = r.nextGaussian() / 4;
      }
    }
    return MeasurementOperator.linear(a);
  }

  private static double[] maskValues() {
    double[] keep = new double[D];
    for (int i = 0; i < D; i++) {
      keep[i] = i % 3 == 0 || i > 11 ? 1 : 0;
    }
    return keep;
  }

  @Test
  void exactForGaussianDataWithEveryOperator() {
    // For Gaussian data p(x0 | x̂) is N(D, r² I) with Song et al.'s r², so ΠGDM's D' is E[x0 | x̂, y] exactly and
    // (D' − D)/σ² is ∇log p(y | x̂) exactly. mask, sr2: closed-form inverse; blur, a matrix: conjugate gradients.
    double[] mu = mu();
    double[] x = new double[2 * D];
    for (int i = 0; i < x.length; i++) {
      x[i] = 2 * Math.cos(3 * i);
    }
    double[] sigma = {0.4, 3};
    double sy = 0.1;
    MeasurementOperator[] ops = {MeasurementOperator.mask(maskValues()), MeasurementOperator.averagePool(2),
        MeasurementOperator.gaussianBlur(0.8), randomMatrix(5, 1)};
    boolean[] diagonal = {true, true, false, false};
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xs = m.create(x, new Shape(2, 1, 4, 4));
      for (int o = 0; o < ops.length; o++) {
        MeasurementOperator op = ops[o];
        assertEquals(diagonal[o], op.gramDiagonal(new long[] {1, 4, 4}).isPresent(), op.describe());
        double[][] a = dense(op);
        double[] y = new double[a.length];
        for (int r = 0; r < y.length; r++) {
          y[r] = 0.7 * Math.cos(2.1 * r) + 0.2;
        }
        PseudoinverseGuidance pi = new PseudoinverseGuidance(gaussian(mu), op, y,
            PseudoinverseGuidance.Options.of(sy, S).withGradientType(DataType.FLOAT64).withSolver(2000, 1e-12));
        double[] got = pi.denoise(xs, sigma, Conditioning.NONE).toDoubleArray();
        double largest = 0;
        double[] plain = gaussian(mu).denoise(xs, sigma, Conditioning.NONE).toDoubleArray();
        for (int k = 0; k < 2; k++) {
          double[] exact = exactPosteriorMean(a, y, sy, mu, java.util.Arrays.copyOfRange(x, k * D, (k + 1) * D),
              sigma[k]);
          for (int i = 0; i < D; i++) {
            assertEquals(exact[i], got[k * D + i], 1e-9, op.describe() + " sample " + k + " value " + i);
            largest = Math.max(largest, Math.abs(got[k * D + i] - plain[k * D + i]));
          }
        }
        assertTrue(largest > 0.05, op.describe() + ": a vanishing correction tests nothing: " + largest);
      }
    }
  }

  @Test
  void itsGuidanceIsTheGradientOfTheExactLogLikelihood() {
    // log p(y | x̂) = −½ (y − A D(x̂))ᵀ (r² A Aᵀ + σ_y² I)⁻¹ (y − A D(x̂)) + const for Gaussian data; central
    // differences of it, computed densely here, against (D' − D)/σ² (conjugate gradients: a non-diagonal A).
    double[] mu = mu();
    MeasurementOperator op = randomMatrix(6, 4);
    double[][] a = dense(op);
    double[] y = {0.3, -0.2, 0.9, 0.1, -0.5, 0.4};
    double sy = 0.2;
    double s = 0.8;
    double r2 = S * S * s * s / (S * S + s * s);
    double[][] cov = new double[6][6];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 6; j++) {
        for (int k = 0; k < D; k++) {
          cov[i][j] += r2 * a[i][k] * a[j][k];
        }
      }
      cov[i][i] += sy * sy;
    }
    double[] x = new double[D];
    for (int i = 0; i < D; i++) {
      x[i] = Math.sin(5 * i) + 0.5;
    }
    java.util.function.Function<double[], Double> logLik = z -> {
      double[] res = y.clone();
      for (int r = 0; r < 6; r++) {
        for (int k = 0; k < D; k++) {
          double dk = (S * S * z[k] + s * s * mu[k]) / (S * S + s * s);
          res[r] -= a[r][k] * dk;
        }
      }
      double[] w = solve(cov, res);
      double q = 0;
      for (int r = 0; r < 6; r++) {
        q += res[r] * w[r];
      }
      return -0.5 * q;
    };
    try (NDManager m = NDManager.newBaseManager()) {
      PseudoinverseGuidance pi = new PseudoinverseGuidance(gaussian(mu), op, y,
          PseudoinverseGuidance.Options.of(sy, S).withGradientType(DataType.FLOAT64).withSolver(500, 1e-12));
      NDArray xs = m.create(x, new Shape(1, 1, 4, 4));
      double[] got = pi.denoise(xs, new double[] {s}, Conditioning.NONE).toDoubleArray();
      double[] plain = gaussian(mu).denoise(xs, new double[] {s}, Conditioning.NONE).toDoubleArray();
      double h = 1e-5;
      for (int j = 0; j < D; j++) {
        double[] p = x.clone();
        double[] q = x.clone();
        p[j] += h;
        q[j] -= h;
        double fd = (logLik.apply(p) - logLik.apply(q)) / (2 * h);
        assertEquals(fd, (got[j] - plain[j]) / (s * s), 1e-7 + 1e-6 * Math.abs(fd), "∂/∂x̂_" + j);
      }
    }
  }

  @Test
  void noiselessMaskIsTheProjectionAndTheVarianceCanBeOverridden() {
    // σ_y = 0: the exact posterior of isotropic Gaussian data keeps y on the mask and D elsewhere; ΠGDM's
    // pseudo-inverse gives exactly that (the unobserved values' zero diagonal gives no correction).
    double[] mu = mu();
    double[] keep = maskValues();
    double[] y = new double[D];
    for (int i = 0; i < D; i++) {
      y[i] = keep[i] * (1 + 0.1 * i);
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xs = m.create(new double[2 * D], new Shape(2, 1, 4, 4)).add(0.3);
      double[] sigma = {0.05, 7};
      PseudoinverseGuidance pi = new PseudoinverseGuidance(gaussian(mu), MeasurementOperator.mask(keep), y,
          PseudoinverseGuidance.Options.of(0, S).withGradientType(DataType.FLOAT64));
      double[] got = pi.denoise(xs, sigma, Conditioning.NONE).toDoubleArray();
      double[] plain = gaussian(mu).denoise(xs, sigma, Conditioning.NONE).toDoubleArray();
      for (int i = 0; i < 2 * D; i++) {
        assertEquals(keep[i % D] == 1 ? y[i % D] : plain[i], got[i], 1e-12, "value " + i);
      }
      // A constant r² = c on sr2 (A Aᵀ = I/4): D' = D + σ² a Aᵀ r/(c/4 + σ_y²), a = S²/(S² + σ²).
      double c = 0.05;
      double sy = 0.1;
      double[] y4 = {0.2, -0.4, 0.6, 1.0};
      PseudoinverseGuidance fixed = new PseudoinverseGuidance(gaussian(mu), MeasurementOperator.averagePool(2), y4,
          PseudoinverseGuidance.Options.of(sy, S).withVariance(s -> c).withScale(0.5).withGradientType(DataType.FLOAT64));
      double[] g2 = fixed.denoise(xs, sigma, Conditioning.NONE).toDoubleArray();
      for (int k = 0; k < 2; k++) {
        double a = S * S / (S * S + sigma[k] * sigma[k]);
        for (int i = 0; i < D; i++) {
          int p = (i / 4 / 2) * 2 + (i % 4) / 2;
          double mean = 0;
          for (int j = 0; j < D; j++) {
            mean += (j / 4 / 2) * 2 + (j % 4) / 2 == p ? plain[k * D + j] / 4 : 0;
          }
          double expected = plain[k * D + i] + 0.5 * sigma[k] * sigma[k] * a * (y4[p] - mean) / 4 / (c / 4 + sy * sy);
          assertEquals(expected, g2[k * D + i], 1e-10, "sr2 with r² = c, sample " + k + " value " + i);
        }
      }
      // σ = 0 leaves the model alone.
      double[] zero = pi.denoise(xs, new double[] {0, 0}, Conditioning.NONE).toDoubleArray();
      double[] plain0 = gaussian(mu).denoise(xs, new double[] {0, 0}, Conditioning.NONE).toDoubleArray();
      assertEquals(plain0[3], zero[3], 0);
    }
    assertEquals(0.25 * 4 / 4.25, PseudoinverseGuidance.posteriorVariance(0.5).applyAsDouble(2), 1e-15);
    assertEquals(0.25, PseudoinverseGuidance.posteriorVariance(0.5).applyAsDouble(Double.POSITIVE_INFINITY), 0);
    assertEquals(0.5, PseudoinverseGuidance.posteriorVariance(1).applyAsDouble(1), 1e-15, "Song et al.'s σ²/(1 + σ²)");
  }

  /** A differentiable mixture of isotropic Gaussians N(μ_k, S² I), weights π_k, on [1, 4, 4]. */
  private static Denoiser mixture(double[][] means, double[] weights) {
    int k = means.length;
    double[] flat = new double[k * D];
    double[] half = new double[k];
    for (int c = 0; c < k; c++) {
      System.arraycopy(means[c], 0, flat, c * D, D);
      for (int i = 0; i < D; i++) {
        half[c] += means[c][i] * means[c][i];
      }
    }
    return (x, sigma, cond) -> {
      int n = (int) x.getShape().get(0);
      NDArray mus = x.getManager().create(flat, new Shape(k, D)).toType(x.getDataType(), false);
      NDArray xf = x.reshape(n, D);
      double[] a = new double[n];
      double[] b = new double[n];
      double[] inv = new double[n];
      for (int i = 0; i < n; i++) {
        double v = S * S + sigma[i] * sigma[i];
        a[i] = S * S / v;
        b[i] = sigma[i] * sigma[i] / v;
        inv[i] = 1 / v;
      }
      double[] logw = new double[n * k];
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < k; c++) {
          logw[i * k + c] = Math.log(weights[c]) - 0.5 * half[c] * inv[i];
        }
      }
      NDArray iv = x.getManager().create(inv, new Shape(n, 1)).toType(x.getDataType(), false);
      // log π_k − |x − μ_k|²/(2v) up to terms constant in k: log π_k + (x·μ_k − |μ_k|²/2)/v.
      NDArray logits = xf.matMul(mus.transpose()).mul(iv)
          .add(x.getManager().create(logw, new Shape(n, k)).toType(x.getDataType(), false));
      NDArray w = logits.softmax(1);
      NDArray mean = w.matMul(mus);
      NDArray ca = x.getManager().create(a, new Shape(n, 1)).toType(x.getDataType(), false);
      NDArray cb = x.getManager().create(b, new Shape(n, 1)).toType(x.getDataType(), false);
      return xf.mul(ca).add(mean.mul(cb)).reshape(x.getShape());
    };
  }

  @Test
  void lowersTheMeasurementResidualOnAMixture() {
    double[][] means = new double[2][D];
    for (int i = 0; i < D; i++) {
      means[0][i] = Math.sin(i);
      means[1][i] = -Math.cos(0.5 * i);
    }
    Denoiser model = mixture(means, new double[] {0.7, 0.3});
    double[] truth = new double[D];
    for (int i = 0; i < D; i++) {
      truth[i] = means[1][i] + S * Math.cos(7 * i);
    }
    Grid grid = GridSpec.karras().build(Processes.byId("edm"), 30);
    double[] plain = Sampling.of(model, 1, 4, 4).sampler(SamplerRegistry.create("euler", Map.of())).grid(grid)
        .seeds(0, 15).run().samples();
    for (MeasurementOperator op : new MeasurementOperator[] {MeasurementOperator.averagePool(2),
        MeasurementOperator.gaussianBlur(1)}) {
      double sy = 0.02;
      double[] y;
      try (NDManager m = NDManager.newBaseManager()) {
        y = op.apply(m.create(truth, new Shape(1, 1, 4, 4))).toDoubleArray();
      }
      SplittableRandom rnd = new SplittableRandom(5);
      for (int i = 0; i < y.length; i++) {
        y[i] += sy * rnd.nextGaussian();
      }
      PseudoinverseGuidance pi = new PseudoinverseGuidance(model, op, y, sy, S);
      double[] guided = Sampling.of(pi, 1, 4, 4).sampler(SamplerRegistry.create("euler", Map.of())).grid(grid)
          .seeds(0, 15).run().samples();
      try (NDManager m = NDManager.newBaseManager()) {
        double mp = java.util.Arrays.stream(pi.residual(m.create(plain, new Shape(16, 1, 4, 4)))).average()
            .orElseThrow();
        double mg = java.util.Arrays.stream(pi.residual(m.create(guided, new Shape(16, 1, 4, 4)))).average()
            .orElseThrow();
        double noise = sy * Math.sqrt(y.length);
        // Measured: sr2 0.038 guided vs 0.72 unguided (noise norm 0.040); blur 0.113 vs 0.68 (noise norm 0.080).
        assertTrue(mg < 0.2 * mp && mg < 4 * noise, op.describe() + ": mean residual guided " + mg + " vs plain " + mp);
      }
    }
  }

  @Test
  void conjugateGradientsMatchADirectSolve() {
    // Three independent SPD 7×7 systems, batched.
    int n = 3;
    int d = 7;
    SplittableRandom r = new SplittableRandom(11);
    double[][][] mats = new double[n][d][d];
    double[] flat = new double[n * d * d];
    double[] b = new double[n * d];
    for (int s = 0; s < n; s++) {
      double[][] g = new double[d][d];
      for (double[] row : g) {
        for (int j = 0; j < d; j++) {
          row[j] = r.nextGaussian();
        }
      }
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          for (int k = 0; k < d; k++) {
            mats[s][i][j] += g[i][k] * g[j][k];
          }
          mats[s][i][j] += i == j ? 0.1 * (s + 1) : 0;
          flat[s * d * d + i * d + j] = mats[s][i][j];
        }
        b[s * d + i] = s == 1 ? 0 : r.nextGaussian();
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray mm = m.create(flat, new Shape(n, d, d));
      java.util.function.UnaryOperator<NDArray> op = v -> mm.matMul(v.reshape(n, d, 1)).reshape(n, d);
      ConjugateGradient.Solution sol = new ConjugateGradient(100, 1e-12).solve(op, m.create(b, new Shape(n, d)));
      double[] got = sol.v().toDoubleArray();
      for (int s = 0; s < n; s++) {
        double[] exact = solve(mats[s], java.util.Arrays.copyOfRange(b, s * d, (s + 1) * d));
        for (int i = 0; i < d; i++) {
          assertEquals(exact[i], got[s * d + i], 1e-8 * (1 + Math.abs(exact[i])), "system " + s + " value " + i);
        }
      }
      assertTrue(sol.iterations() <= 3 * d, "iterations " + sol.iterations());
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> new ConjugateGradient(2, 1e-10).solve(op, m.create(b, new Shape(n, d))));
      assertTrue(e.getMessage().contains("did not converge in 2 iterations") && e.getMessage().contains("relative residual"),
          e.getMessage());
      e = assertThrows(IllegalStateException.class,
          () -> new ConjugateGradient(10, 1e-10).solve(v -> v.neg(), m.create(b, new Shape(n, d))));
      assertTrue(e.getMessage().contains("not positive definite"), e.getMessage());
      double[] bad = b.clone();
      bad[4] = Double.NaN;
      IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
          () -> new ConjugateGradient(10, 1e-10).solve(op, m.create(bad, new Shape(n, d))));
      assertTrue(ie.getMessage().contains("not finite"), ie.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new ConjugateGradient(0, 1e-5));
    assertThrows(IllegalArgumentException.class, () -> new ConjugateGradient(10, Double.NaN));
  }

  @Test
  void clearErrors() {
    double[] mu = mu();
    // Noiseless deblurring is ill-conditioned: a small bound is reached, and the message says what to do.
    PseudoinverseGuidance pi = new PseudoinverseGuidance(gaussian(mu), MeasurementOperator.gaussianBlur(1.5),
        new double[D], PseudoinverseGuidance.Options.of(0, S).withSolver(3, 1e-10).withGradientType(DataType.FLOAT64));
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray xs = m.create(mu, new Shape(1, 1, 4, 4));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> pi.denoise(xs, new double[] {0.1}, Conditioning.NONE));
      assertTrue(e.getMessage().contains("ΠGDM") && e.getMessage().contains("did not converge in 3")
          && e.getMessage().contains("σ_y > 0"), e.getMessage());
      PseudoinverseGuidance nan = new PseudoinverseGuidance(gaussian(mu), MeasurementOperator.averagePool(2),
          new double[4], PseudoinverseGuidance.Options.of(0, S).withVariance(s -> Double.NaN));
      IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
          () -> nan.denoise(xs, new double[] {1}, Conditioning.NONE));
      assertTrue(ie.getMessage().contains("r² at σ = 1.0 is NaN"), ie.getMessage());
      PseudoinverseGuidance wrong = new PseudoinverseGuidance(gaussian(mu), MeasurementOperator.averagePool(2),
          new double[5], PseudoinverseGuidance.Options.of(0, S).withGradientType(DataType.FLOAT64));
      ie = assertThrows(IllegalArgumentException.class, () -> wrong.denoise(xs, new double[] {1}, Conditioning.NONE));
      assertTrue(ie.getMessage().contains("gives 4 values per sample but the measurement has 5"), ie.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PseudoinverseGuidance(
        gaussian(mu), MeasurementOperator.identity(), new double[] {Double.NaN}, 0, S));
    assertTrue(e.getMessage().contains("not finite"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PseudoinverseGuidance.Options.of(-1, S));
    assertTrue(e.getMessage().contains("σ_y must be finite and >= 0, got -1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PseudoinverseGuidance.posteriorVariance(Double.NaN));
    assertTrue(e.getMessage().contains("σ_data"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> PseudoinverseGuidance.Options.of(0, S).withScale(Double.NaN));
    assertTrue(e.getMessage().contains("guidance weight"), e.getMessage());
    UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
        () -> new MeasurementOperator() {
          @Override
          public NDArray apply(NDArray x) {
            return x;
          }

          @Override
          public long[] measurementShape(long[] sampleShape) {
            return sampleShape;
          }

          @Override
          public String describe() {
            return "custom";
          }
        }.adjoint(null, new long[] {1}));
    assertTrue(u.getMessage().contains("custom") && u.getMessage().contains("adjoint"), u.getMessage());
  }

  @Test
  void adjointsAreTheTransposes() {
    // ⟨A x, v⟩ = ⟨x, Aᵀ v⟩ for every built-in operator, on [2, 1, 4, 4].
    MeasurementOperator[] ops = {MeasurementOperator.mask(maskValues()), MeasurementOperator.averagePool(2),
        MeasurementOperator.gaussianBlur(0.8), randomMatrix(5, 2), MeasurementOperator.identity()};
    try (NDManager m = NDManager.newBaseManager()) {
      double[] x = new double[2 * D];
      for (int i = 0; i < x.length; i++) {
        x[i] = Math.cos(1.7 * i);
      }
      NDArray xs = m.create(x, new Shape(2, 1, 4, 4));
      for (MeasurementOperator op : ops) {
        NDArray ax = op.apply(xs);
        double[] v = new double[(int) ax.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = Math.sin(0.9 * i + 1);
        }
        NDArray vs = m.create(v, ax.getShape());
        double[] lhs = ConjugateGradient.dots(ax, vs);
        NDArray atv = op.adjoint(vs, new long[] {1, 4, 4});
        assertEquals("(2, 1, 4, 4)", atv.getShape().toString(), op.describe());
        double[] rhs = ConjugateGradient.dots(xs, atv);
        for (int k = 0; k < 2; k++) {
          assertEquals(lhs[k], rhs[k], 1e-12, op.describe() + " sample " + k);
        }
      }
    }
  }
}
