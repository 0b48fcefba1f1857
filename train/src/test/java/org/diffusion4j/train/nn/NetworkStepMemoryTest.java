package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import org.diffusion4j.denoiser.Preconditioning;
import org.junit.jupiter.api.Test;

/**
 * Training-step cost and memory: one sub-manager per step (house style 15), the live-array count
 * stays flat. Timings are printed, not asserted (the machine is shared).
 */
class NetworkStepMemoryTest {

  /** One EDM-preconditioned denoising step: forward, backward, explicit zeroing of the gradients. */
  static void step(NDManager base, NetworkDenoiser d, Shape shape, NDArray labels) {
    try (NDManager step = base.newSubManager()) {
      NDArray x0 = step.randomNormal(shape).mul(0.5f);
      NDArray sigma = step.randomNormal(new Shape(shape.get(0))).mul(1.2f).sub(1.2f).exp();
      NDArray xHat = x0.add(step.randomNormal(shape).mul(sigma.reshape(shape.get(0), 1, 1, 1)
          .reshape(sigmaShape(shape))));
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray denoised = d.forward(new ParameterStore(step, false), true, xHat,
            sigma.toType(DataType.FLOAT64, false).toDoubleArray(), labels == null
                ? org.diffusion4j.denoiser.Conditioning.NONE
                : org.diffusion4j.denoiser.Conditioning.ofLabels(longs(labels)))
            .denoised();
        gc.backward(denoised.sub(x0).square().mean());
      }
      zeroGradients(d.network());
    }
  }

  private static long[] longs(NDArray labels) {
    if (labels.getDataType() == DataType.INT64) {
      return labels.toLongArray();
    }
    try (NDArray l = labels.toType(DataType.INT64, false)) {
      return l.toLongArray();
    }
  }

  private static Shape sigmaShape(Shape shape) {
    long[] b = new long[shape.dimension()];
    java.util.Arrays.fill(b, 1);
    b[0] = shape.get(0);
    return new Shape(b);
  }

  static void zeroGradients(Block net) {
    for (Pair<String, Parameter> p : net.getParameters()) {
      try (NDArray g = p.getValue().getArray().getGradient()) {
        g.subi(g);
      }
    }
  }

  static double msPerStep(NDManager base, NetworkDenoiser d, Shape shape, int steps) {
    step(base, d, shape, null);
    long t0 = System.nanoTime();
    for (int i = 0; i < steps; i++) {
      step(base, d, shape, null);
    }
    return (System.nanoTime() - t0) / 1e6 / steps;
  }

  private static void assertFlat(String name, Block net, Shape shape, boolean labels) {
    try (NDManager base = NDManager.newBaseManager()) {
      // Long-lived labels, as a sampler's fixed labels would be.
      NDArray l = labels ? base.zeros(new Shape(shape.get(0)), DataType.INT32) : null;
      net.initialize(base, DataType.FLOAT32, shape);
      NetworkDenoiser d = new NetworkDenoiser(net, new Preconditioning.Edm(0.5));
      int after5 = 0;
      for (int i = 1; i <= 50; i++) {
        step(base, d, shape, l);
        if (i == 5) {
          after5 = base.getManagedArrays().size();
        }
      }
      int after50 = base.getManagedArrays().size();
      System.out.printf("%s %s: live arrays after step 5 = %d, after step 50 = %d%n", name, shape, after5, after50);
      // Slack 2: nothing may grow per step (45 steps would add ≥ 45).
      assertTrue(after50 <= after5 + 2, name + ": live arrays grew from " + after5 + " to " + after50);
    }
  }

  @Test
  void liveArrayCountStaysFlatOver50Steps() {
    assertFlat("mlp", MlpConfig.toy(2).build(), new Shape(128, 2), false);
    assertFlat("mlp(classes 3, LayerNorm)", new MlpConfig(2, 32, 2, 16, 3, true, NoiseEmbedding.Kind.FOURIER)
        .build(), new Shape(64, 2), true);
    assertFlat("unet(base 8, classes 3)", NetworksTest.smallUNet(1, 28, 3).build(), new Shape(2, 1, 28, 28),
        true);
  }

}
