package org.diffusion4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Scalings;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VpLinear;
import org.junit.jupiter.api.Test;

class ObjectiveTest {
  private static final int N = 4096;

  private static double[] fill(double v, int n) {
    double[] a = new double[n];
    Arrays.fill(a, v);
    return a;
  }

  private static NDArray normals(NDManager m, int n, int d, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] v = new double[n * d];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextGaussian();
    }
    return m.create(v, new Shape(n, d));
  }

  @Test
  void atTheOptimumOnAGaussianTheLossIsItsClosedForm() {
    // For x0 ~ N(μ, s²), E[λ ‖D* − x0‖²]/d = λ(σ) Var(x0 | x̂) = λ s²σ²/(s² + σ²).
    double mu = 0.7;
    double s = 0.5;
    GaussianMixture g = GaussianMixture.gaussian(new double[] {mu, mu}, s);
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = normals(m, N, 2, 1).mul(s).add(mu);
      NDArray eps = normals(m, N, 2, 2);
      for (String id : new String[] {"eps", "x0", "v", "edm", "flow", "ve"}) {
        Objective o = Objective.of(id, id.equals("flow") ? RectifiedFlow.DEFAULT : VpLinear.DEFAULT, 0.5);
        for (double sigma : new double[] {0.1, 0.8, 4.0}) {
          Scalings c = o.preconditioning().scalings(sigma);
          // The optimal raw network inverts the preconditioning of the exact denoiser.
          Objective.Network opt = (in, cNoise) -> {
            NDArray xHat = in.div(c.cIn());
            NDArray d = g.denoiser().denoise(xHat, sigma);
            return d.sub(xHat.mul(c.cSkip())).div(c.cOut());
          };
          double loss = o.perExampleLoss(x0, fill(sigma, N), eps, opt).mean().getDouble();
          double want = o.weighting().applyAsDouble(sigma) * s * s * sigma * sigma / (s * s + sigma * sigma);
          // Per-example losses are λ·(posterior variance)·χ²₂/2: relative standard error 1/sqrt(N).
          assertEquals(want, loss, 5 * want / Math.sqrt(N), id + " at σ=" + sigma);
        }
      }
    }
  }

  @Test
  void epsFlowAndVObjectivesAreTheirPapersLosses() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = normals(m, 64, 3, 3);
      NDArray eps = normals(m, 64, 3, 4);
      NDArray f = normals(m, 64, 3, 5);
      Objective.Network net = (in, cNoise) -> f;
      double sigma = 0.37;
      double[] sg = fill(sigma, 64);
      // ε (L_simple): ‖F − ε‖².
      double a = Objective.of("eps", VpLinear.DEFAULT, 0.5).perExampleLoss(x0, sg, eps, net).mean().getDouble();
      assertEquals(f.sub(eps).square().mean().getDouble(), a, 1e-9);
      // Flow matching: ‖F − (ε − x0)‖².
      double b = Objective.of("flow", RectifiedFlow.DEFAULT, 0.5).perExampleLoss(x0, sg, eps, net).mean().getDouble();
      assertEquals(f.sub(eps.sub(x0)).square().mean().getDouble(), b, 1e-9);
      // v on VP: F predicts −v with v = α ε − σ_t x0 (α = 1/sqrt(1+σ²), σ_t = σα).
      double al = 1 / Math.sqrt(1 + sigma * sigma);
      NDArray v = eps.mul(al).sub(x0.mul(sigma * al));
      double c = Objective.of("v", VpLinear.DEFAULT, 0.5).perExampleLoss(x0, sg, eps, net).mean().getDouble();
      assertEquals(f.add(v).square().mean().getDouble(), c, 1e-9);
    }
  }

  @Test
  void imageBatchesAverageOverEveryElementOfAnExample() {
    // Rank-4 x0 [n, C, H, W]: the per-example loss is λ c_out² times the mean over C·H·W elements.
    try (NDManager m = NDManager.newBaseManager()) {
      Shape shape = new Shape(3, 2, 4, 4);
      NDArray x0 = normals(m, 3, 32, 6).reshape(shape);
      NDArray eps = normals(m, 3, 32, 7).reshape(shape);
      NDArray f = normals(m, 3, 32, 8).reshape(shape);
      double[] sg = {0.2, 1.0, 3.0};
      Objective o = Objective.of("edm", Edm.DEFAULT, 0.5);
      double[] got = o.perExampleLoss(x0, sg, eps, (in, cNoise) -> f).toDoubleArray();
      double[] x = x0.toDoubleArray();
      double[] e = eps.toDoubleArray();
      double[] fv = f.toDoubleArray();
      assertEquals(3, got.length);
      for (int i = 0; i < 3; i++) {
        Scalings c = o.preconditioning().scalings(sg[i]);
        double sum = 0;
        for (int j = 32 * i; j < 32 * (i + 1); j++) {
          double xHat = x[j] + sg[i] * e[j];
          double r = fv[j] - (x[j] - c.cSkip() * xHat) / c.cOut();
          sum += r * r;
        }
        double want = o.weighting().applyAsDouble(sg[i]) * c.cOut() * c.cOut() * sum / 32;
        assertEquals(want, got[i], 1e-9 * want, "example " + i);
      }
    }
  }

  @Test
  void edmLossIsOneAtInitialisationOnDataOfStdSigmaData() {
    // 003: with λ(σ) = (σ² + σd²)/(σ σd)² and F ≡ 0, E[L] = 1 for data of std σd.
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = normals(m, N, 4, 6).mul(0.5);
      NDArray eps = normals(m, N, 4, 7);
      Objective o = Objective.of("edm", Edm.DEFAULT, 0.5);
      double[] sg = o.draw().draw(N, new SplittableRandom(8));
      double loss = o.perExampleLoss(x0, sg, eps, (in, cn) -> in.zerosLike()).mean().getDouble();
      assertEquals(1, loss, 0.05);
    }
  }

  @Test
  void drawsHaveTheirDistributions() {
    SplittableRandom r = new SplittableRandom(9);
    double[] s = new SigmaDraw.LogNormal(-1.2, 1.2).draw(N, r);
    double mean = Arrays.stream(s).map(Math::log).average().orElseThrow();
    assertEquals(-1.2, mean, 5 * 1.2 / Math.sqrt(N));
    double[] u = new SigmaDraw.LogUniform(0.02, 100).draw(N, r);
    assertTrue(Arrays.stream(u).allMatch(v -> v >= 0.02 && v <= 100));
    double[] d = new SigmaDraw.UniformTimestep(DiscreteDdpm.DEFAULT).draw(N, r);
    double[] table = DiscreteDdpm.DEFAULT.sigmas();
    assertTrue(Arrays.stream(d).allMatch(v -> Arrays.binarySearch(table, v) >= 0), "draws come from the table");
    double[] fl = new SigmaDraw.LogitNormal(0, 1).draw(N, r);
    double median = Arrays.stream(fl).sorted().toArray()[N / 2];
    assertEquals(1, median, 0.1, "logit-normal(0,1) has median t = 1/2, σ = 1");
  }

  @Test
  void unknownObjectiveNamesTheAccepted() {
    var e = assertThrows(IllegalArgumentException.class, () -> Objective.of("epsilon", Edm.DEFAULT, 0.5));
    assertTrue(e.getMessage().contains("epsilon") && e.getMessage().contains("flow"), e.getMessage());
  }

  @Test
  void float32LossStaysFiniteAtTinyAndHugeSigma() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x0 = normals(m, 8, 2, 10).toType(DataType.FLOAT32, false);
      NDArray eps = normals(m, 8, 2, 11).toType(DataType.FLOAT32, false);
      for (String id : Objective.IDS) {
        Objective o = Objective.of(id, VpLinear.DEFAULT, 0.5);
        for (double sigma : new double[] {1e-4, 1e3}) {
          NDArray l = o.perExampleLoss(x0, fill(sigma, 8), eps, (in, cn) -> in.zerosLike());
          for (float v : l.toFloatArray()) {
            assertTrue(Float.isFinite(v), id + " at σ=" + sigma + " gave " + v);
          }
        }
      }
    }
  }
}
