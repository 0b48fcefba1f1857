package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import org.diffusion4j.denoiser.Preconditioning;
import org.junit.jupiter.api.Test;

/**
 * Prints the cost of one EDM training step (forward + backward + zeroing; no optimiser update) of the
 * default networks: the MLP on 512×2 and the MNIST U-Net on 32×1×28×28. Printed, not asserted.
 */
class NetworkStepTimingTest {

  @Test
  void printStepTimes() {
    try (NDManager base = NDManager.newBaseManager()) {
      Shape mlpShape = new Shape(512, 2);
      Block mlp = MlpConfig.toy(2).build();
      mlp.initialize(base, DataType.FLOAT32, mlpShape);
      double mlpMs = NetworkStepMemoryTest.msPerStep(base, new NetworkDenoiser(mlp, new Preconditioning.Edm(0.5)), mlpShape, 10);
      Shape unetShape = new Shape(32, 1, 28, 28);
      Block unet = UNetConfig.mnist().build();
      unet.initialize(base, DataType.FLOAT32, unetShape);
      double unetMs = NetworkStepMemoryTest.msPerStep(base, new NetworkDenoiser(unet, new Preconditioning.Edm(0.5)), unetShape, 1);
      System.out.printf("forward+backward: MLP %s (%d params) %.1f ms/step; U-Net mnist() %s (%d params) "
          + "%.0f ms/step = %.1f images/s%n", mlpShape, count(mlp), mlpMs, unetShape, count(unet), unetMs,
          32_000 / unetMs);
      assertTrue(mlpMs > 0 && unetMs > 0);
    }
  }

  private static long count(Block net) {
    long n = 0;
    for (Pair<String, Parameter> p : net.getParameters()) {
      n += p.getValue().getArray().size();
    }
    return n;
  }
}
