package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.train.loop.Safetensors;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.loop.Trainer;
import org.junit.jupiter.api.Test;

/** Two-time MLP and U-Net: started from a one-time teacher they are its denoiser at every target level. */
class TwoTimeNetworkTest {

  static Map<String, Tensor> tensors(Block b) {
    return Safetensors.toTensors(Trainer.parameters(b));
  }

  static void check(NDManager m, Block teacher, Block student, NDArray x) {
    TwoTimeInit.load(student, tensors(teacher), "teacher");
    Preconditioning edm = new Preconditioning.Edm(0.5);
    NetworkDenoiser t = new NetworkDenoiser(teacher, edm);
    NetworkDenoiser s = new NetworkDenoiser(student, edm);
    int n = Math.toIntExact(x.getShape().get(0));
    double[] sigma = new double[n];
    double[] target = new double[n];
    for (int i = 0; i < n; i++) {
      sigma[i] = 0.1 + i;
      target[i] = i % 2 == 0 ? 0 : 0.05 * i;
    }
    float[] want = t.denoise(x, sigma, Conditioning.NONE).toFloatArray();
    float[] got = s.denoise(x, sigma, Conditioning.NONE.withSigmaTarget(target)).toFloatArray();
    assertArrayEquals(want, got, 2e-5f, "g(x̂, σ, σ′) = the teacher's D at first, whatever σ′");
    // The second time reaches the network: a nonzero weight on its input changes the output.
    Map<String, NDArray> p = Trainer.parameters(student);
    NDArray first = p.entrySet().stream().filter(e -> e.getValue().getShape().dimension() >= 2
        && e.getKey().contains("in")).findFirst().orElseThrow().getValue();
    first.set(first.add(0.3).toByteBuffer());
    float[] moved = s.denoise(x, sigma, Conditioning.NONE.withSigmaTarget(target)).toFloatArray();
    float[] same = s.denoise(x, sigma, Conditioning.NONE.withSigmaTarget(sigma)).toFloatArray();
    double diff = 0;
    for (int i = 0; i < moved.length; i++) {
      diff = Math.max(diff, Math.abs(moved[i] - same[i]));
    }
    // (The U-Net's output layer starts near zero, so the change is small there: measured 1e-5.)
    assertTrue(diff > 1e-6, "σ′ changes g once the extra input has weight: " + diff);
  }

  @Test
  void aTwoTimeMlpStartedFromAnMlpIsItsDenoiserAtEveryTargetLevel() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      MlpConfig c = new MlpConfig(2, 32, 2, 16, 0);
      Mlp teacher = c.build();
      teacher.initialize(m, DataType.FLOAT32, new Shape(1, 2), new Shape(1));
      TwoTimeMlp student = new TwoTimeMlp(c);
      student.initialize(m, DataType.FLOAT32, new Shape(1, 2), new Shape(1));
      NDArray x = m.randomNormal(new Shape(6, 2));
      check(m, teacher, student, x);
    }
  }

  @Test
  void aTwoTimeUNetStartedFromAUNetIsItsDenoiserAtEveryTargetLevel() {
    try (NDManager m = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(3);
      UNetConfig c = new UNetConfig(1, 8, 8, new int[] {1, 2}, 1, new int[0], 0, 0);
      UNet teacher = c.build();
      teacher.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8), new Shape(1));
      TwoTimeUNet student = new TwoTimeUNet(c);
      student.initialize(m, DataType.FLOAT32, new Shape(1, 1, 8, 8), new Shape(1));
      NDArray x = m.randomNormal(new Shape(4, 1, 8, 8));
      NDArray f = student.forward(new ParameterStore(m, false), new NDList(x, m.zeros(new Shape(4)),
          m.ones(new Shape(4))), false).singletonOrThrow();
      assertEquals(x.getShape(), f.getShape());
      check(m, teacher, student, x);
    }
  }
}
