package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Test;

/**
 * The exported model that {@code src/test/resources/diffusers-export/check_export.py} loaded with diffusers
 * v0.25 ({@code DDPMPipeline.from_pretrained}) and compared with our stored outputs ({@code check_export.out.txt}):
 * our loader still reads it, and still computes exactly the stored outputs, so diffusers' verdict still holds.
 */
class DiffusersExportCheckTest {
  static final Path DIR = Path.of("src/test/resources/diffusers-export");

  @Test
  void theExportDiffusersCheckedStillGivesTheStoredOutputsBitForBit() throws IOException {
    try (DiffusersModel dm = DiffusersModel.load(DIR.resolve("model"))) {
      assertEquals(2, dm.config().classes());
      assertEquals(2, dm.config().nullClassLabel());
      ExportCheckFiles.Outputs o = ExportCheckFiles.compute(dm);
      Path ex = DIR.resolve("expected");
      assertArrayEquals(Npy.read(ex.resolve("forward_out.npy")).data(), o.forward());
      assertArrayEquals(Npy.read(ex.resolve("loop_ddim_eta0_leading_10.npy")).data(), o.ddim());
      assertArrayEquals(Npy.read(ex.resolve("loop_euler_linspace_15.npy")).data(), o.euler());
    }
    String verdict = Files.readString(DIR.resolve("check_export.out.txt"));
    assertTrue(verdict.contains("all checks passed"), verdict);
  }
}
