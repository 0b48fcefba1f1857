package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffusion4j.tensor.Scalars;
import org.diffusion4j.train.loop.Trainer;
import org.junit.jupiter.api.Test;

/**
 * A garbage collection between the forward and the backward pass must not change a gradient. DJL's
 * {@code NDArray.mul(Number)} family backs the number with a Java direct buffer that it releases at
 * once while autograd keeps the tensor for the backward pass; a collection then frees that memory and
 * the backward pass reads whatever the allocator wrote there. This was the MNIST U-Net's "loss became
 * NaN": a gradient norm of 9.6e27 under a normal loss, and identical runs that diverged by step 245.
 */
class BackwardAfterCollectionTest {

  /** Collects garbage until the JVM has freed an unreachable direct buffer, i.e. run its cleaner. */
  static void collectAndFreeDirectBuffers() throws InterruptedException {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    PhantomReference<Object> canary = new PhantomReference<>(ByteBuffer.allocateDirect(4), queue);
    for (int i = 0; i < 100 && queue.poll() == null; i++) {
      System.gc();
      Thread.sleep(10);
    }
    // The buffers' cleaners run on the reference handler, which enqueued the canary: let it finish.
    Thread.sleep(50);
    Reference.reachabilityFence(canary);
  }

  private static float[] gradientOfScaled(NDManager m, boolean safe, boolean collect) throws Exception {
    NDArray x = m.ones(new Shape(4));
    x.setRequiresGradient(true);
    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray y = safe ? Scalars.mul(x, 0.75) : x.mul(0.75f);
      NDArray l = y.sum();
      if (collect) {
        collectAndFreeDirectBuffers();
      }
      gc.backward(l);
    }
    return x.getGradient().toFloatArray();
  }

  @Test
  void djlsNumberOverloadLosesItsOperandWhileScalarsKeepsIt() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      // The probe itself: without a collection DJL's overload is right, after one it is not (this
      // also shows that collectAndFreeDirectBuffers really frees the buffer, so the tests below bite).
      assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f, 0.75f}, gradientOfScaled(m, false, false));
      boolean corrupted = false;
      for (int trial = 0; trial < 5 && !corrupted; trial++) {
        corrupted = gradientOfScaled(m, false, true)[0] != 0.75f;
      }
      assertTrue(corrupted, "DJL's mul(Number) kept its operand across a collection: the hazard this guards "
          + "against is gone from this DJL version (Scalars may then be retired)");
      for (int trial = 0; trial < 3; trial++) {
        assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f, 0.75f}, gradientOfScaled(m, true, true));
      }
    }
  }

  @Test
  void scalarsKeepTheDtypeAndValueOfFloat64() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray x = m.create(new double[] {3});
      NDArray y = Scalars.mul(x, 1.0 / 3);
      assertEquals(DataType.FLOAT64, y.getDataType());
      assertEquals(3 * (1.0 / 3), y.getDouble(0));
      assertEquals(DataType.FLOAT32, Scalars.of(m.ones(new Shape(1)), 2).getDataType());
      assertEquals(0.5, Scalars.rdiv(1, m.create(new double[] {2})).getDouble(0));
    }
  }

  private static List<byte[]> unetGradients(Block net, NDManager root, Map<String, NDArray> params, boolean collect)
      throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (NDManager sm = root.newSubManager(); NDScope scope = new NDScope()) {
      Engine.getInstance().setRandomSeed(3);
      NDArray x = sm.randomNormal(new Shape(4, 1, 8, 8));
      NDArray c = sm.create(new float[] {-1, -0.3f, 0.2f, 0.9f});
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray f = net.forward(new ParameterStore(root, false), new NDList(x, c), true).singletonOrThrow();
        NDArray l = f.sub(x).square().mean();
        if (collect) {
          collectAndFreeDirectBuffers();
        }
        gc.backward(l);
      }
      for (NDArray p : params.values()) {
        out.add(p.getGradient().toByteArray());
        p.getGradient().set(new NDIndex("..."), 0);
      }
    }
    return out;
  }

  @Test
  void unetGradientsDoNotDependOnACollectionBeforeBackward() throws Exception {
    try (NDManager root = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(0);
      // Every kind of block: residual blocks with skips, attention, down/up-sampling, the embedding.
      UNetConfig cfg = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[] {4}, 0, 0);
      Block net = cfg.build();
      net.initialize(root, DataType.FLOAT32, new Shape(1, 1, 8, 8), new Shape(1));
      Map<String, NDArray> params = Trainer.parameters(net);
      List<byte[]> plain = unetGradients(net, root, params, false);
      for (int trial = 0; trial < 2; trial++) {
        List<byte[]> collected = unetGradients(net, root, params, true);
        int i = 0;
        for (String name : params.keySet()) {
          assertArrayEquals(plain.get(i), collected.get(i), "gradient of " + name + " changed after a collection");
          i++;
        }
      }
    }
  }
}
