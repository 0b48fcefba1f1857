package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.process.Edm;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gradient that turns ±∞ or NaN while the loss stays finite: clipping must not turn it into NaN
 * parameters (maxNorm/∞ = 0 and 0·∞ = NaN), the run must stop naming the step and the tensor, and a
 * zeroed gradient buffer must be zero again even where it held ±∞ or NaN.
 */
class NonFiniteGradientTest {
  private static final Objective EDM = Objective.of("edm", Edm.DEFAULT, 0.5);

  @TempDir Path dir;

  /** A parameter whose gradient is exactly {@code grad}. */
  private static NDArray withGradient(NDManager m, float[] grad) {
    NDArray p = m.zeros(new ai.djl.ndarray.types.Shape(grad.length));
    p.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(p.mul(m.create(grad)).sum());
    }
    return p;
  }

  @Test
  void clippingLeavesANonFiniteGradientAsItIsInsteadOfMakingItNaN() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = withGradient(m, new float[] {3, Float.POSITIVE_INFINITY});
      NDArray b = withGradient(m, new float[] {4, -2});
      double norm = GradientClipping.clipGlobalNorm(List.of(a.getGradient(), b.getGradient()), 1.0);
      assertEquals(Double.POSITIVE_INFINITY, norm);
      // Scaling by 1/(∞ + 1e-6) = 0 would have given [0, NaN] and [0, 0].
      assertArrayEquals(new float[] {3, Float.POSITIVE_INFINITY}, a.getGradient().toFloatArray());
      assertArrayEquals(new float[] {4, -2}, b.getGradient().toFloatArray());
      NDArray c = withGradient(m, new float[] {Float.NaN, 1});
      assertTrue(Double.isNaN(GradientClipping.clipGlobalNorm(List.of(c.getGradient()), 1.0)));
    }
  }

  @Test
  void firstNonFiniteNamesTheTensorAndCountsItsBadEntries() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> params = new LinkedHashMap<>();
      params.put("ok", withGradient(m, new float[] {1, 2, 3}));
      assertNull(GradientClipping.firstNonFinite(params));
      params.put("conv.weight", withGradient(m, new float[] {Float.NaN, 1, Float.NEGATIVE_INFINITY, 0}));
      params.put("later", withGradient(m, new float[] {Float.NaN}));
      assertEquals("conv.weight (2 of 4 entries non-finite)", GradientClipping.firstNonFinite(params));
    }
  }

  @Test
  void zeroingClearsInfiniteAndNaNGradientEntries() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> params = new LinkedHashMap<>();
      params.put("w", withGradient(m, new float[] {Float.POSITIVE_INFINITY, Float.NaN, -5}));
      AdamW.zeroGradients(params);
      // g − g would have left [NaN, NaN, 0] for every later backward pass to accumulate into.
      assertArrayEquals(new float[] {0, 0, 0}, params.get("w").getGradient().toFloatArray());
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        gc.backward(params.get("w").mul(m.create(new float[] {1, 2, 3})).sum());
      }
      assertArrayEquals(new float[] {1, 2, 3}, params.get("w").getGradient().toFloatArray());
    }
  }

  @Test
  void anInfiniteGradientUnderAFiniteLossStopsTheRunNamingTheStepAndTensorWithFiniteWeights() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      Block net = TrainerTest.newNet(m, 8);
      String first = net.getParameters().get(0).getKey();
      TrainingLoss l = ctx -> {
        NDArray loss = new DenoisingLoss(EDM).compute(ctx).loss();
        if (ctx.step() == 3) {
          // √(w − sg(w)) is 0 in the forward pass and has derivative 1/(2·√0) = +∞: a finite loss whose
          // gradient is infinite in every entry of the first parameter, the condition clipping met.
          NDArray w = ctx.parameters().getValue(net.getParameters().get(0).getValue(), m.getDevice(), true);
          loss = loss.add(w.sub(w.stopGradient()).sqrt().sum());
        }
        return new TrainingLoss.Value(loss);
      };
      Trainer t = new Trainer(Map.of("model", new NetworkDenoiser(net, EDM.preconditioning())), Map.of(), Map.of(), l,
          TrainerTest.gaussianBatches(), TrainerTest.options(10, 2), dir, "{}", null);
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.run(false));
      assertEquals(3, e.step());
      assertTrue(e.getMessage().contains("gradient norm of 'model' became Infinity"), e.getMessage());
      assertTrue(e.getMessage().contains("first non-finite gradient: " + first + " ("), e.getMessage());
      for (var p : net.getParameters()) {
        for (float f : p.getValue().getArray().toFloatArray()) {
          assertTrue(Float.isFinite(f), p.getKey() + " stays finite");
        }
      }
    }
  }
}
