package org.diffusion4j.train.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.nn.MlpConfig;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainedModelTest {
  @TempDir Path dir;

  @Test
  void savedRunReloadsToTheSameDenoiser() throws Exception {
    DataSource data = DataSources.parse("8-gaussians");
    RunConfig config = new RunConfig(new MlpConfig(2, 32, 1, 16, 0), VpLinear.DEFAULT, "v", 1.0, "8-gaussians",
        data.sampleShape(), data.scaling(), 0, 0, false, TrainSettings.defaults(false, 12));
    assertEquals(config.toJson(), RunConfig.fromJson(config.toJson(), "config").toJson(), "config JSON round trip");
    try (NDManager m = NDManager.newBaseManager()) {
      Block net = TrainedModel.newNetwork(config, m);
      new Trainer(net, config.objectiveValue(), Trainer.Batches.of(data, false),
          new Trainer.Options(12, 32, 1, LrSchedule.constant(1e-3, 0), 1, new Ema.WarmUp(0.9), 3, 4, 12), dir,
          config.toJson(), null).run(false);
      NDArray x = m.create(new float[] {0.3f, -1.2f, 2.0f, 0.5f, -0.1f, 0.9f}, new Shape(3, 2));
      double[] live = new NetworkDenoiser(net, config.objectiveValue().preconditioning()).denoise(x, 0.7)
          .toType(DataType.FLOAT64, false).toDoubleArray();
      try (TrainedModel raw = TrainedModel.load(dir, false); TrainedModel ema = TrainedModel.load(dir, true)) {
        assertEquals(12, raw.step());
        assertEquals("v", raw.config().objective());
        NDArray xr = raw.network().getParameters().get(0).getValue().getArray().getManager()
            .create(new float[] {0.3f, -1.2f, 2.0f, 0.5f, -0.1f, 0.9f}, new Shape(3, 2));
        double[] reloaded = raw.denoiser().denoise(xr, 0.7).toType(DataType.FLOAT64, false).toDoubleArray();
        assertArrayEquals(live, reloaded, 0, "raw weights reload bit for bit");
        double[] averaged = ema.denoiser().denoise(xr, 0.7).toType(DataType.FLOAT64, false).toDoubleArray();
        assertTrue(java.util.Arrays.stream(averaged).allMatch(Double::isFinite));
      }
    }
  }

  @Test
  void aDirectoryThatIsNotARunSaysSo() throws Exception {
    Files.writeString(dir.resolve(Checkpoint.CONFIG), "{\"format\":\"something-else\"}");
    var e = assertThrows(IllegalArgumentException.class, () -> TrainedModel.load(dir, true));
    assertTrue(e.getMessage().contains("not a Diffusion4J run"), e.getMessage());
  }
}
