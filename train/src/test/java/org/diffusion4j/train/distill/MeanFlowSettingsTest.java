package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Mean Flow settings: stored in a run's config, read back, defaults for old runs, bad values refused by value. */
class MeanFlowSettingsTest {
  @Test
  void settingsRoundTripThroughTheConfigAndOldRunsReadTheDefaults() {
    String config = "{\"format\": \"diffusion4j-run-1\", \"objective\": \"mf\"}";
    MeanFlowSettings s = new MeanFlowSettings(0.4, 0.5);
    String withSettings = s.embedInto(config);
    assertTrue(withSettings.contains("\"objective\": \"mf\""), "the rest of the config is kept");
    assertEquals(s, MeanFlowSettings.read(withSettings, "config"));
    assertEquals(MeanFlowSettings.DEFAULT, MeanFlowSettings.read(config, "config"));
    assertEquals(new MeanFlowSettings(0.25, 1), MeanFlowSettings.DEFAULT, "Geng et al.'s choices");
  }

  @Test
  void badValuesAreRefusedNamingThem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MeanFlowSettings(-0.1, 1));
    assertTrue(e.getMessage().contains("--mf-unequal must lie in [0, 1], got -0.1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new MeanFlowSettings(0.25, Double.POSITIVE_INFINITY));
    assertTrue(e.getMessage().contains("--mf-power must be finite and >= 0, got Infinity"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> MeanFlowSettings.read("{\"mean_flow\": {\"unequal\": 2, \"power\": 1}}", "run/config.json"));
    assertTrue(e.getMessage().contains("run/config.json: bad \"mean_flow\" section: --mf-unequal must lie in [0, 1], got 2"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> MeanFlowSettings.read("{\"mean_flow\": {\"power\": 1}}", "run/config.json"));
    assertTrue(e.getMessage().contains("needs numbers unequal and power"), e.getMessage());
  }

  @Test
  void theLossCarriesTheSettings() {
    MeanFlowLoss loss = new MeanFlowSettings(0.4, 0.5).loss("model");
    assertEquals(0.4, loss.fractionUnequal());
    assertEquals(0.5, loss.power());
    assertEquals(false, loss.distills(), "from scratch: no teacher");
  }
}
