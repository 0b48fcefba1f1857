package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.denoiser.Scalings;
import org.junit.jupiter.api.Test;

class NetworkDenoiserTest {

  /** A parameter-free F with a closed form: F(x; c) = 2x + c (c broadcast per sample) + label. */
  static class Affine extends FixedBlock {
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training,
        PairList<String, Object> params) {
      NDArray x = in.get(0);
      NDArray c = in.get(1).reshape(x.getShape().get(0), 1);
      NDArray y = x.mul(2).add(c);
      if (in.size() > 2) {
        y = y.add(in.get(2).toType(DataType.FLOAT32, false).reshape(x.getShape().get(0), 1));
      }
      return new NDList(y);
    }
  }

  private static final List<Preconditioning> ROWS = List.of(new Preconditioning.Edm(0.5),
      Preconditioning.Vp.standard(), new Preconditioning.Ve(), new Preconditioning.Flow());

  private static double expected(Preconditioning p, double x, double sigma, double label) {
    Scalings c = p.scalings(sigma);
    return c.cSkip() * x + c.cOut() * (2 * c.cIn() * x + c.cNoise() + label);
  }

  @Test
  void samplingModeIsThePreconditioningFormulaAndKeepsDtype() {
    double[] xs = {-1.3, 0.2, 2.5};
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(xs, new Shape(3, 1));
      for (Preconditioning p : ROWS) {
        NetworkDenoiser d = new NetworkDenoiser(new Affine(), p);
        for (double sigma : new double[] {0.01, 0.7, 30}) {
          NDArray out = d.denoise(x, sigma);
          assertEquals(DataType.FLOAT64, out.getDataType());
          double[] got = out.toDoubleArray();
          for (int i = 0; i < 3; i++) {
            double e = expected(p, xs[i], sigma, 0);
            // F runs in float32: relative round-off ~1e-6 of the largest term (c_noise up to 999).
            assertEquals(e, got[i], 1e-6 * (1 + Math.abs(e) + 1000 * Math.abs(p.scalings(sigma).cOut())),
                p.id() + " σ=" + sigma);
          }
        }
        // Labels reach F.
        double[] withLabels = d.conditioned(org.diffusion4j.denoiser.Conditioning.ofLabels(1, 2, 3)).denoise(x, 0.7).toDoubleArray();
        assertEquals(expected(p, xs[2], 0.7, 3), withLabels[2], 1e-4 * (1 + Math.abs(withLabels[2])));
      }
    }
  }

  @Test
  void sigmaZeroIsIdentityWithoutCallingTheNetwork() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new float[] {1, -2});
      NetworkDenoiser d = new NetworkDenoiser(new Affine() {
        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean t, PairList<String, Object> q) {
          throw new AssertionError("F called at σ = 0");
        }
      }, new Preconditioning.Edm(0.5));
      assertEquals(x, d.denoise(x, 0));
      assertThrows(IllegalArgumentException.class, () -> d.denoise(x, -1));
      assertThrows(IllegalArgumentException.class, () -> d.denoise(x, Double.NaN));
    }
  }

  /**
   * libtorch's grad mode is per thread and on by default, while DJL switches it off only on the thread that
   * loads the engine: a sampling forward on any other thread (a sampling worker, a Spark task) would record
   * an autograd graph through a trained network's parameters. (DJL's {@code hasGradient} cannot show that:
   * it answers false for every non-leaf tensor, so the probe is F itself.) Inside a {@code
   * GradientCollector}, as posterior-sampling guidance needs, the forward must still record.
   */
  @Test
  void samplingModeRecordsNoGraphOnAnyThreadButDoesInsideACollector() throws Exception {
    boolean[] during = new boolean[3];
    boolean[] after = new boolean[2];
    try (NDManager m = NDManager.newBaseManager()) {
      int[] slot = {0};
      NetworkDenoiser d = new NetworkDenoiser(new Affine() {
        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList in, boolean t, PairList<String, Object> q) {
          during[slot[0]] = ai.djl.pytorch.jni.JniUtils.isGradMode();
          return super.forwardInternal(ps, in, t, q);
        }
      }, new Preconditioning.Edm(0.5));
      NDArray x = m.randomNormal(new Shape(4, 2), DataType.FLOAT32);
      d.denoise(x, 1.0).close();
      after[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
      boolean[] workerModeBefore = new boolean[1];
      Thread t = new Thread(() -> {
        slot[0] = 1;
        workerModeBefore[0] = ai.djl.pytorch.jni.JniUtils.isGradMode();
        try (NDScope scope = new NDScope()) {
          d.denoise(x, 1.0);
        }
        after[1] = ai.djl.pytorch.jni.JniUtils.isGradMode();
      }, "probe-worker");
      t.start();
      t.join();
      slot[0] = 2;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        d.denoise(x, 1.0).close();
      }
      assertTrue(!during[0] && !during[1], "F ran with grad mode on: main " + during[0] + ", worker " + during[1]);
      assertTrue(during[2], "inside a GradientCollector F must record");
      assertEquals(false, after[0], "main thread's grad mode changed");
      assertEquals(workerModeBefore[0], after[1], "the worker's grad mode is restored after the forward");
    }
  }

  @Test
  void samplingModeLeavesOnlyItsResultInTheCallersScope() {
    try (NDManager m = NDManager.newBaseManager()) {
      Mlp net = new MlpConfig(2, 16, 1, 8, 0).build();
      net.initialize(m, DataType.FLOAT32, new Shape(4, 2));
      NetworkDenoiser d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      NDArray x = m.randomNormal(new Shape(4, 2), DataType.FLOAT64);
      int before = m.getManagedArrays().size();
      NDArray out;
      try (NDScope scope = new NDScope()) {
        out = d.denoise(x, 1.0);
        assertEquals(before + 1, m.getManagedArrays().size());
      }
      // The caller's scope closed the result too.
      assertEquals(before, m.getManagedArrays().size());
      assertTrue(out.isReleased());
    }
  }

  @Test
  void trainingModeMatchesSamplingModePerSampleAndIsDifferentiable() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (Preconditioning p : ROWS) {
        Mlp net = new MlpConfig(2, 16, 2, 8, 0).build();
        net.initialize(m, DataType.FLOAT32, new Shape(3, 2));
        NetworkDenoiser d = new NetworkDenoiser(net, p);
        double[] sigmas = {0.05, 1.0, 12.0};
        NDArray x = m.randomNormal(new Shape(3, 2));
        NDArray batch;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          batch = d.forward(new ParameterStore(m, false), false, x, sigmas,
              org.diffusion4j.denoiser.Conditioning.NONE).denoised();
          gc.backward(batch.square().sum());
        }
        float[] got = batch.toFloatArray();
        for (int i = 0; i < 3; i++) {
          float[] one = d.denoise(x.get(i).expandDims(0), sigmas[i]).toFloatArray();
          for (int j = 0; j < 2; j++) {
            // Same float32 computation, batched versus alone.
            assertEquals(one[j], got[2 * i + j], 1e-5 * (1 + Math.abs(one[j])), p.id() + " sample " + i);
          }
        }
        try (NDArray g = net.getParameters().get("01embed1_weight").getArray().getGradient()) {
          assertTrue(g.abs().sum().getFloat() > 0, p.id() + ": no gradient reached the embedding");
        }
      }
      NetworkDenoiser edm = new NetworkDenoiser(new Affine(), new Preconditioning.Edm(0.5));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> edm.forward(new ParameterStore(m, false), false, m.zeros(new Shape(2, 1)),
              new double[] {1, -1}, org.diffusion4j.denoiser.Conditioning.NONE));
      assertTrue(e.getMessage().contains("sample 1"), e.getMessage());
    }
  }
}
