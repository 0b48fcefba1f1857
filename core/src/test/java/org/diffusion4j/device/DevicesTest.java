package org.diffusion4j.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Device names, and the error a missing GPU gives (CI has none). */
class DevicesTest {

  @Test
  void namesParse() {
    assertEquals(Device.cpu(), Devices.parse("cpu"));
    assertEquals(Device.cpu(), Devices.parse(" CPU "));
    assertEquals(Device.gpu(2), Devices.syntax("gpu:2"));
    assertEquals(Device.gpu(0), Devices.syntax("gpu"));
    assertEquals(List.of(Device.cpu(), Device.cpu(), Device.cpu()), Devices.forWorkers("cpu", 3));
    for (String bad : new String[] {"cuda", "gpu:", "gpu:-1", "gpu:x", "", "tpu"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.parse(bad), bad);
      assertTrue(e.getMessage().contains("accepted: cpu, gpu, gpu:N"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Devices.forWorkers("cpu", 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.forWorkers("gpu:1", 2));
    assertTrue(e.getMessage().contains("names one GPU"), e.getMessage());
  }

  @Test
  void aMissingGpuIsOneClearError() {
    Assumptions.assumeTrue(Devices.gpuCount() == 0, "this machine has a GPU");
    for (String name : new String[] {"gpu", "gpu:0", "gpu:3"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.parse(name));
      assertTrue(e.getMessage().startsWith("device " + name + ": no GPU visible to PyTorch (DJL engine reports 0 GPUs)"),
          e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Devices.forWorkers("gpu", 2));
    assertTrue(e.getMessage().contains("no GPU visible"), e.getMessage());
  }
}
