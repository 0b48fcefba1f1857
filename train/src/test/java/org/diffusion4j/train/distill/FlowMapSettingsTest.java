package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Flow-map settings: stored in a run's config, read back, defaults for old runs, bad values refused by value. */
class FlowMapSettingsTest {
  @Test
  void settingsRoundTripThroughTheConfigAndOldRunsReadTheDefaults() {
    String config = "{\"format\": \"diffusion4j-run-1\", \"objective\": \"mf\"}";
    FlowMapSettings s = FlowMapSettings.DEFAULT.withMeanFlow(0.4, 0.5).withScm(-1.5, 1.2);
    assertEquals(new FlowMapSettings(0.4, 0.5, -1.5, 1.2), s);
    String withSettings = s.embedInto(config);
    assertTrue(withSettings.contains("\"objective\": \"mf\""), "the rest of the config is kept");
    assertEquals(s, FlowMapSettings.read(withSettings, "config"));
    assertEquals(FlowMapSettings.DEFAULT, FlowMapSettings.read(config, "config"));
    assertEquals(new FlowMapSettings(0.25, 1, -1.0, 1.4), FlowMapSettings.DEFAULT, "the papers' choices");
  }

  @Test
  void badValuesAreRefusedNamingThem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FlowMapSettings.DEFAULT.withMeanFlow(-0.1, 1));
    assertTrue(e.getMessage().contains("--mf-unequal must lie in [0, 1], got -0.1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> FlowMapSettings.DEFAULT.withMeanFlow(0.25, Double.POSITIVE_INFINITY));
    assertTrue(e.getMessage().contains("--mf-power must be finite and >= 0, got Infinity"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapSettings.DEFAULT.withScm(Double.NaN, 1));
    assertTrue(e.getMessage().contains("--scm-p-mean must be finite, got NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapSettings.DEFAULT.withScm(-1, 0));
    assertTrue(e.getMessage().contains("--scm-p-std must be finite and > 0, got 0.0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FlowMapSettings.read(
        "{\"flow_map\": {\"mf_unequal\": 2, \"mf_power\": 1, \"scm_p_mean\": -1, \"scm_p_std\": 1.4}}",
        "run/config.json"));
    assertTrue(e.getMessage().contains("run/config.json: bad \"flow_map\" section: --mf-unequal must lie in [0, 1], got 2"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> FlowMapSettings.read("{\"flow_map\": {\"mf_power\": 1}}", "run/config.json"));
    assertTrue(e.getMessage().contains("needs numbers mf_unequal, mf_power, scm_p_mean, scm_p_std"), e.getMessage());
  }

  @Test
  void theMeanFlowLossCarriesTheSettings() {
    MeanFlowLoss loss = FlowMapSettings.DEFAULT.withMeanFlow(0.4, 0.5).meanFlowLoss("model");
    assertEquals(0.4, loss.fractionUnequal());
    assertEquals(0.5, loss.power());
    assertEquals(false, loss.distills(), "from scratch: no teacher");
  }
}
