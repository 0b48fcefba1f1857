package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffusion4j.process.DiscreteDdpm;
import org.junit.jupiter.api.Test;

class SchedulerConfigTest {
  @Test
  void betaSchedulesArePrecisionAndDiscreteDdpmOfTheSameName() {
    for (String b : new String[] {"linear", "scaled_linear", "squaredcos_cap_v2"}) {
      SchedulerConfig c = SchedulerConfig.parse("{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 500, "
          + "\"beta_schedule\": \"" + b + "\", \"beta_start\": 0.00085, \"beta_end\": 0.012, "
          + "\"prediction_type\": \"v_prediction\", \"clip_sample\": true}", "s.json");
      assertEquals(DiscreteDdpm.of(500, b, 0.00085, 0.012), c.process());
      assertEquals(SchedulerConfig.Prediction.V_PREDICTION, c.prediction());
      assertTrue(c.clipSample());
    }
    SchedulerConfig t = SchedulerConfig.parse("{\"trained_betas\": [0.1, 0.2, 0.3]}", "s.json");
    assertEquals(3, t.process().trainSteps());
    assertEquals(0.1 * 0 + (1 - 0.1) * (1 - 0.2), t.process().alphasCumprod()[1], 1e-15);
    SchedulerConfig d = SchedulerConfig.parse("{}", "s.json");
    assertEquals(DiscreteDdpm.DEFAULT, d.process());
    assertEquals(SchedulerConfig.Prediction.EPSILON, d.prediction());
  }

  @Test
  void unsupportedSchedulesAreNamed() {
    String[][] cases = {{"{\"beta_schedule\": \"sigmoid\"}", "s.json: unsupported beta_schedule 'sigmoid'"},
        {"{\"prediction_type\": \"flow\"}", "s.json: unknown prediction_type 'flow'; accepted: epsilon, sample, v_prediction"},
        {"{\"rescale_betas_zero_snr\": true}", "s.json: rescale_betas_zero_snr = true"},
        {"[1]", "s.json: not a JSON object"}};
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse(c[0], "s.json"));
      assertTrue(e.getMessage().startsWith(c[1]), e.getMessage());
    }
  }
}
