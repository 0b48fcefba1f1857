package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {
  @Test
  void matchesTheAdamWRecurrenceComputedByHand() {
    // Minimise f(w) = Σ (w − c)²/2 (gradient w − c) for three steps; compare with the scalar recurrence.
    double[] w0 = {1.0, -2.0};
    double[] c = {0.5, 0.25};
    double lr = 0.1;
    double wd = 0.01;
    try (NDManager mgr = NDManager.newBaseManager()) {
      NDArray w = mgr.create(w0);
      w.setRequiresGradient(true);
      AdamW opt = new AdamW(0.9, 0.999, 1e-8, wd);
      double[] hw = w0.clone();
      double[] hm = new double[2];
      double[] hv = new double[2];
      for (int t = 1; t <= 3; t++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray loss = w.sub(mgr.create(c)).square().sum().div(2);
          gc.backward(loss);
        }
        opt.update(Map.of("w", w), lr);
        AdamW.zeroGradients(Map.of("w", w));
        for (int i = 0; i < 2; i++) {
          double g = hw[i] - c[i];
          hw[i] *= 1 - lr * wd;
          hm[i] = 0.9 * hm[i] + 0.1 * g;
          hv[i] = 0.999 * hv[i] + 0.001 * g * g;
          double mh = hm[i] / (1 - Math.pow(0.9, t));
          double vh = hv[i] / (1 - Math.pow(0.999, t));
          hw[i] -= lr * mh / (Math.sqrt(vh) + 1e-8);
        }
        double[] got = w.toDoubleArray();
        for (int i = 0; i < 2; i++) {
          assertEquals(hw[i], got[i], 1e-7 * (1 + Math.abs(hw[i])), "step " + t + " coord " + i);
        }
      }
      assertEquals(3, opt.step());
    }
  }
}
