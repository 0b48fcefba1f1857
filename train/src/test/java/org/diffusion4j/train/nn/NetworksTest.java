package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import org.junit.jupiter.api.Test;

class NetworksTest {

  static UNetConfig smallUNet(int channels, int resolution, int classes) {
    return new UNetConfig(channels, resolution, 8, new int[] {1, 2, 2}, 1, new int[] {resolution / 4}, 0.1,
        classes, 2, NoiseEmbedding.Kind.SINUSOIDAL, UNetConfig.Downsample.CONV);
  }

  private static NDArray run(Block net, NDManager m, NDArray x, NDArray labels, boolean training) {
    NDArray c = m.randomNormal(new Shape(x.getShape().get(0)));
    NDList in = labels == null ? new NDList(x, c) : new NDList(x, c, labels);
    return net.forward(new ParameterStore(m, false), in, training).singletonOrThrow();
  }

  @Test
  void unetShapes() {
    try (NDManager m = NDManager.newBaseManager()) {
      for (Shape shape : new Shape[] {new Shape(2, 1, 28, 28), new Shape(2, 3, 32, 32)}) {
        UNet net = smallUNet((int) shape.get(1), (int) shape.get(2), 0).build();
        net.initialize(m, DataType.FLOAT32, shape);
        NDArray y = run(net, m, m.randomNormal(shape), null, false);
        assertEquals(shape, y.getShape());
        assertTrue(Float.isFinite(y.abs().sum().getFloat()));
      }
      // Average-pool downsampling and Fourier embedding take the same shapes.
      UNetConfig pool = new UNetConfig(1, 28, 8, new int[] {1, 2}, 1, new int[] {14}, 0, 0, 1,
          NoiseEmbedding.Kind.FOURIER, UNetConfig.Downsample.POOL);
      UNet net = pool.build();
      Shape shape = new Shape(2, 1, 28, 28);
      net.initialize(m, DataType.FLOAT32, shape);
      assertEquals(shape, run(net, m, m.randomNormal(shape), null, false).getShape());
    }
  }

  @Test
  void inferenceIsDeterministicAndDropoutActsOnlyInTraining() {
    try (NDManager m = NDManager.newBaseManager()) {
      Shape shape = new Shape(2, 1, 28, 28);
      UNet net = smallUNet(1, 28, 0).build();
      net.initialize(m, DataType.FLOAT32, shape);
      // Make residual branches visible: the near-zero last layers would hide dropout.
      for (Pair<String, Parameter> p : net.getParameters()) {
        if (p.getKey().endsWith("weight")) {
          p.getValue().getArray().muli(p.getValue().getArray().abs().max().getFloat() < 1e-4f ? 1e4f : 1f);
        }
      }
      NDArray x = m.randomNormal(shape);
      NDArray c = m.create(new float[] {0.1f, -0.3f});
      ParameterStore ps = new ParameterStore(m, false);
      float[] a = net.forward(ps, new NDList(x, c), false).singletonOrThrow().toFloatArray();
      float[] b = net.forward(ps, new NDList(x, c), false).singletonOrThrow().toFloatArray();
      assertArrayEquals(a, b, 0);
      float[] t = net.forward(ps, new NDList(x, c), true).singletonOrThrow().toFloatArray();
      double diff = 0;
      for (int i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - t[i]));
      }
      assertTrue(diff > 1e-4, "dropout 0.1 in training changed the output by only " + diff);
    }
  }

  /** Every parameter receives a finite, non-zero gradient from a random projection of F. */
  static void assertGradientsReachEveryParameter(Block net, Shape shape, boolean labels) {
    try (NDManager m = NDManager.newBaseManager()) {
      net.initialize(m, DataType.FLOAT32, shape);
      NDArray x = m.randomNormal(shape);
      NDArray l = labels ? m.create(new int[] {0, 2}) : null;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray y = run(net, m, x, l, true);
        gc.backward(y.mul(m.randomNormal(shape)).sum());
      }
      int checked = 0;
      for (Pair<String, Parameter> p : net.getParameters()) {
        try (NDArray g = p.getValue().getArray().getGradient()) {
          double norm = g.abs().sum().getFloat();
          assertTrue(norm > 0 && Double.isFinite(norm), p.getKey() + " gradient norm " + norm);
        }
        checked++;
      }
      assertTrue(checked > 10, "only " + checked + " parameters");
    }
  }

  @Test
  void unetGradientsFlowToEveryParameter() {
    assertGradientsReachEveryParameter(smallUNet(1, 28, 3).build(), new Shape(2, 1, 28, 28), true);
  }

  @Test
  void mlpShapesAndGradients() {
    try (NDManager m = NDManager.newBaseManager()) {
      Mlp net = new MlpConfig(2, 32, 2, 16, 0).build();
      Shape shape = new Shape(5, 2);
      net.initialize(m, DataType.FLOAT32, shape);
      assertEquals(shape, run(net, m, m.randomNormal(shape), null, false).getShape());
      // Trailing dims are flattened and restored.
      Mlp flat = new MlpConfig(6, 16, 1, 8, 0).build();
      flat.initialize(m, DataType.FLOAT32, new Shape(3, 2, 3));
      assertEquals(new Shape(3, 2, 3), run(flat, m, m.randomNormal(new Shape(3, 2, 3)), null, false).getShape());
      assertThrows(IllegalArgumentException.class, () -> run(net, m, m.randomNormal(new Shape(5, 3)), null, false));
      assertThrows(IllegalArgumentException.class,
          () -> run(net, m, m.randomNormal(shape), m.create(new int[] {0, 0, 0, 0, 0}), false));
    }
    assertGradientsReachEveryParameter(
        new MlpConfig(2, 32, 2, 16, 3, true, NoiseEmbedding.Kind.FOURIER).build(), new Shape(2, 2), true);
  }

  @Test
  void classLabelsChangeTheOutputAndAreChecked() {
    try (NDManager m = NDManager.newBaseManager()) {
      Mlp net = new MlpConfig(2, 16, 1, 8, 3).build();
      Shape shape = new Shape(2, 2);
      net.initialize(m, DataType.FLOAT32, shape);
      for (Pair<String, Parameter> p : net.getParameters()) {
        p.getValue().getArray().set(GroupNormTest.f(GroupNormTest.random(new java.util.Random(3),
            (int) p.getValue().getShape().size(), 0.3, 0)));
      }
      NDArray x = m.randomNormal(shape);
      NDArray c = m.zeros(new Shape(2));
      ParameterStore ps = new ParameterStore(m, false);
      float[] none = net.forward(ps, new NDList(x, c), false).singletonOrThrow().toFloatArray();
      float[] nullLabel = net.forward(ps, new NDList(x, c, m.create(new int[] {3, 3})), false)
          .singletonOrThrow().toFloatArray();
      float[] one = net.forward(ps, new NDList(x, c, m.create(new int[] {1, 1})), false)
          .singletonOrThrow().toFloatArray();
      // Absent labels are the null label K.
      assertArrayEquals(none, nullLabel, 1e-6f);
      assertTrue(Math.abs(none[0] - one[0]) + Math.abs(none[1] - one[1]) > 1e-4);
      assertThrows(IllegalArgumentException.class,
          () -> net.forward(ps, new NDList(x, c, m.create(new int[] {4, 0})), false));
    }
  }
}
