package org.diffusion4j;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertEquals;

class EngineSmokeTest {
  @Test
  void pytorchLoadsOffline() {
    assertEquals("PyTorch", Engine.getInstance().getEngineName());
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new double[] {1, 2, 3});
      assertEquals(6.0, a.sum().getDouble(), 0);
    }
  }
}
