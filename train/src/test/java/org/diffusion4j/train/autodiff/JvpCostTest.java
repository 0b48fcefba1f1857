package org.diffusion4j.train.autodiff;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.diffusion4j.train.nn.MlpConfig;
import org.junit.jupiter.api.Test;

/**
 * Prints the cost of one JVP call relative to one plain forward (grad mode off) for the toy MLP on
 * 512×2 and the small U-Net on 8×1×28×28. Printed, not asserted (the machine is shared).
 */
@org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "d4j.cost", matches = "true",
    disabledReason = "a timing report, not a check: run with -Dd4j.cost=true")
class JvpCostTest {

  private static double medianMs(Supplier<NDArray> call, int reps) {
    double[] ms = new double[reps];
    for (int i = -2; i < reps; i++) {
      try (NDScope scope = new NDScope()) {
        scope.suppressNotUsedWarning();
        long t0 = System.nanoTime();
        call.get().toFloatArray();
        if (i >= 0) {
          ms[i] = (System.nanoTime() - t0) / 1e6;
        }
      }
    }
    Arrays.sort(ms);
    return ms[reps / 2];
  }

  private static void print(String name, Block net, Shape shape, int reps) {
    try (NDManager m = NDManager.newBaseManager()) {
      net.initialize(m, DataType.FLOAT32, shape);
      Jvp.Fn fn = Jvp.Fn.of(net, new ParameterStore(m, false), false, null);
      long n = shape.get(0);
      NDArray x = m.randomNormal(shape);
      NDArray t = m.randomNormal(new Shape(n));
      NDArray v = m.randomNormal(shape);
      NDArray w = m.ones(new Shape(n));
      double forward = medianMs(() -> fn.apply(x, t), reps);
      Jvp db = Jvp.doubleBackward(fn);
      Jvp fd = Jvp.finiteDifference(fn);
      double dbMs = medianMs(() -> db.apply(x, t, v, w).tangent(), reps);
      double fdMs = medianMs(() -> fd.apply(x, t, v, w).tangent(), reps);
      System.out.printf(Locale.ROOT, "JVP cost %s %s: forward %.2f ms; double-backward %.2f ms (%.1fx); "
          + "finite difference %.2f ms (%.1fx)%n", name, shape, forward, dbMs, dbMs / forward, fdMs,
          fdMs / forward);
      assertTrue(forward > 0 && dbMs > 0 && fdMs > 0);
    }
  }

  @Test
  void printCostPerCall() {
    print("MLP toy(2)", MlpConfig.toy(2).build(), new Shape(512, 2), 15);
    print("U-Net base 8 {1,2,2}", JvpTest.tinyUNet().build(), new Shape(8, 1, 28, 28), 5);
  }
}
