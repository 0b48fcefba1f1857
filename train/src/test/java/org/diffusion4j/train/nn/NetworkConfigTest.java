package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NetworkConfigTest {

  @Test
  void configsSurviveJsonRoundTrips() {
    NetworkConfig[] configs = {MlpConfig.toy(2), new MlpConfig(3, 64, 2, 16, 4, true, NoiseEmbedding.Kind.FOURIER),
        UNetConfig.mnist(), new UNetConfig(3, 32, 16, new int[] {1, 2, 4}, 1, new int[] {16, 8}, 0.25, 10, 4,
            NoiseEmbedding.Kind.FOURIER, UNetConfig.Downsample.POOL)};
    for (NetworkConfig c : configs) {
      String json = c.toJson();
      NetworkConfig back = NetworkConfig.fromJson(json);
      assertEquals(c, back, json);
      assertEquals(c.hashCode(), back.hashCode());
      assertEquals(json, back.toJson());
    }
    assertTrue(UNetConfig.mnist().toJson().contains("\"type\": \"unet\""));
    assertTrue(UNetConfig.mnist().toJson().contains("\"embedding\": \"sinusoidal\""));
  }

  @Test
  void optionalFieldsTakeDefaults() {
    NetworkConfig mlp = NetworkConfig.fromJson(
        "{\"type\":\"mlp\",\"dim\":2,\"hidden\":256,\"blocks\":4,\"embedDim\":64,\"classes\":0}");
    assertEquals(MlpConfig.toy(2), mlp);
    NetworkConfig unet = NetworkConfig.fromJson("{\"type\":\"unet\",\"channels\":1,\"resolution\":28,"
        + "\"baseChannels\":32,\"multipliers\":[1,2,2],\"blocksPerLevel\":2,\"attentionResolutions\":[7],"
        + "\"dropout\":0.1,\"classes\":0}");
    assertEquals(UNetConfig.mnist(), unet);
  }

  @Test
  void badConfigsFailNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NetworkConfig.fromJson("{\"type\":\"mlp\",\"dim\":0,\"hidden\":8,\"blocks\":1,\"embedDim\":8}"));
    assertTrue(e.getMessage().contains("dim"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NetworkConfig.fromJson("{\"type\":\"gan\"}"));
    assertThrows(IllegalArgumentException.class, () -> NetworkConfig.fromJson("not json {"));
    e = assertThrows(IllegalArgumentException.class,
        () -> new UNetConfig(1, 28, 32, new int[] {1, 2, 2, 2}, 2, new int[] {7}, 0.1, 0));
    assertTrue(e.getMessage().contains("resolution"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 2, new int[] {8}, 0.1, 0));
    assertTrue(e.getMessage().contains("[28, 14, 7]"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 2, new int[] {7}, 1.0, 0));
  }
}
