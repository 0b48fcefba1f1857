package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The UNet2DModel options the fixture does not use, on hand-made weights. */
class UNetOptionsTest {
  /** A small config with {@code extra} JSON members overriding the defaults. */
  static UNet2DConfig config(String extra) {
    return UNet2DConfig.parse("{\"_class_name\": \"UNet2DModel\", \"sample_size\": 8, \"in_channels\": 2, "
        + "\"out_channels\": 2, \"block_out_channels\": [8, 16], \"layers_per_block\": 1, \"norm_num_groups\": 4, "
        + "\"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], "
        + "\"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"attention_head_dim\": 4"
        + (extra.isEmpty() ? "" : ", " + extra) + "}", "config.json");
  }

  private static double[] run(UNet2DModel u, NDManager m, double[] x, long[] labels) {
    return Reference.values(u.apply(new ParameterStore(m, false), Reference.array(m, x, 3, 2, 8, 8),
        new double[] {0, 250.5, 999}, labels, false));
  }

  @Test
  void googleDdpmStyleOptionsRunAndNameTheirTensors() {
    // The options of google/ddpm-cifar10-32: no head dim, padding 0, flip false, shift 1, eps 1e-6.
    UNet2DConfig c = config("\"attention_head_dim\": null, \"downsample_padding\": 0, \"flip_sin_to_cos\": false, "
        + "\"freq_shift\": 1, \"norm_eps\": 1e-6, \"mid_block_scale_factor\": 1.4142135, \"dropout\": 0.1");
    assertEquals(0, c.attentionHeadDim());
    try (NDManager m = NDManager.newBaseManager()) {
      UNet2DModel u = UNet2DModel.create(c, m);
      Map<String, Parameter> n = u.namedParameters();
      assertTrue(n.containsKey("down_blocks.0.downsamplers.0.conv.weight"));
      assertFalse(n.containsKey("down_blocks.1.downsamplers.0.conv.weight"), "no downsampler on the last level");
      assertTrue(n.containsKey("up_blocks.0.upsamplers.0.conv.weight"));
      assertFalse(n.containsKey("up_blocks.1.upsamplers.0.conv.weight"), "no upsampler on the last level");
      assertEquals(List.of(16L, 16L), List.of(n.get("mid_block.attentions.0.to_q.weight").getShape().get(0),
          n.get("mid_block.attentions.0.to_q.weight").getShape().get(1)));
      assertEquals(24L, n.get("up_blocks.1.resnets.0.conv1.weight").getShape().get(1), "16 from below + 8 skip");
      assertEquals(16L, n.get("up_blocks.1.resnets.1.conv1.weight").getShape().get(1), "8 + 8 skip");
      Reference.fill(n, 1, 0.2);
      double[] x = Reference.randn(3 * 2 * 64, 2);
      double[] y = run(u, m, x, null);
      for (double v : y) {
        assertTrue(Double.isFinite(v));
      }
      // attention_head_dim null (one head of width C) is not head dim 4 on the same weights.
      UNet2DModel heads = UNet2DModel.create(config("\"downsample_padding\": 0, \"flip_sin_to_cos\": false, "
          + "\"freq_shift\": 1, \"norm_eps\": 1e-6, \"mid_block_scale_factor\": 1.4142135"), m);
      Reference.fill(heads.namedParameters(), 1, 0.2);
      assertEquals(n.keySet(), heads.namedParameters().keySet());
      assertTrue(Fixture.relative(run(heads, m, x, null), y) > 1e-4);
    }
  }

  @Test
  void scaleShiftDoublesTheProjectionAndDropsTheMidAttentionNorm() {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, Parameter> n = UNet2DModel.create(config("\"resnet_time_scale_shift\": \"scale_shift\""), m)
          .namedParameters();
      assertEquals(2 * 8, n.get("down_blocks.0.resnets.0.time_emb_proj.weight").getShape().get(0));
      assertFalse(n.containsKey("mid_block.attentions.0.group_norm.weight"));
      assertTrue(n.containsKey("down_blocks.1.attentions.0.group_norm.weight"));
      Map<String, Parameter> g = UNet2DModel.create(config("\"resnet_time_scale_shift\": \"scale_shift\", "
          + "\"attn_norm_num_groups\": 2"), m).namedParameters();
      assertTrue(g.containsKey("mid_block.attentions.0.group_norm.weight"));
      Map<String, Parameter> noAttention = UNet2DModel.create(config("\"add_attention\": false"), m).namedParameters();
      assertFalse(noAttention.keySet().stream().anyMatch(k -> k.startsWith("mid_block.attentions")));
      assertTrue(noAttention.containsKey("mid_block.resnets.1.conv2.weight"));
    }
  }

  @Test
  void centerInputSampleMapsXTo2xMinus1() {
    try (NDManager m = NDManager.newBaseManager()) {
      UNet2DModel plain = UNet2DModel.create(config(""), m);
      UNet2DModel centred = UNet2DModel.create(config("\"center_input_sample\": true"), m);
      Reference.fill(plain.namedParameters(), 7, 0.2);
      Reference.fill(centred.namedParameters(), 7, 0.2);
      double[] x = Reference.randn(3 * 2 * 64, 8);
      double[] x2 = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        x2[i] = 2 * x[i] - 1;
      }
      double e = Fixture.relative(run(centred, m, x, null), run(plain, m, x2, null));
      assertTrue(e < 1e-6, "center_input_sample: " + e);
    }
  }

  @Test
  void classEmbeddingIsAddedToTheTimeEmbedding() {
    try (NDManager m = NDManager.newBaseManager()) {
      UNet2DModel plain = UNet2DModel.create(config(""), m);
      UNet2DModel cond = UNet2DModel.create(config("\"num_class_embeds\": 3"), m);
      Map<String, Parameter> n = cond.namedParameters();
      Reference.fill(n, 9, 0.2);
      assertEquals(List.of(3L, 32L), List.of(n.get("class_embedding.weight").getShape().get(0),
          n.get("class_embedding.weight").getShape().get(1)));
      float[] table = new float[3 * 32];
      for (int i = 32; i < 64; i++) {
        table[i] = 0.5f; // class 1 adds 0.5 to every embedding channel, class 0 nothing
      }
      n.get("class_embedding.weight").getArray().set(FloatBuffer.wrap(table));
      double[] x = Reference.randn(3 * 2 * 64, 10);
      // The unconditional model with the conditional one's weights: class 0 (a zero row) must equal it.
      for (Map.Entry<String, Parameter> e : plain.namedParameters().entrySet()) {
        e.getValue().getArray().set(n.get(e.getKey()).getArray().toFloatArray());
      }
      double[] p = run(plain, m, x, null);
      assertArrayEquals(p, run(cond, m, x, new long[] {0, 0, 0}));
      assertTrue(Fixture.relative(run(cond, m, x, new long[] {1, 1, 1}), p) > 1e-3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(cond, m, x, null));
      assertTrue(e.getMessage().contains("class-conditional (3 classes)"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> run(cond, m, x, new long[] {0, -1, 3}));
      assertTrue(e.getMessage().contains("class label -1 outside 0..2"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> run(plain, m, x, new long[] {0, 0, 0}));
      assertTrue(e.getMessage().contains("unconditional"), e.getMessage());
      Map<String, Parameter> ts = UNet2DModel.create(config("\"class_embed_type\": \"timestep\""), m).namedParameters();
      assertEquals(32L, ts.get("class_embedding.linear_1.weight").getShape().get(0));
    }
  }

  @Test
  void unsupportedConfigsSayWhatIsAccepted() {
    String[][] cases = {
        {"\"down_block_types\": [\"CrossAttnDownBlock2D\", \"AttnDownBlock2D\"]", "unsupported down block type "
            + "'CrossAttnDownBlock2D'; accepted: DownBlock2D, AttnDownBlock2D"},
        {"\"time_embedding_type\": \"fourier\"", "time_embedding_type 'fourier' is not supported; accepted: positional"},
        {"\"act_fn\": \"mish\"", "act_fn 'mish' is not supported; accepted: silu, swish"},
        {"\"norm_num_groups\": 3", "norm_num_groups 3 does not divide block_out_channels 8"},
        {"\"resnet_time_scale_shift\": \"spatial\"", "unsupported resnet_time_scale_shift 'spatial'"},
        {"\"block_out_channels\": [8]", "must have the same length"},
        {"\"layers_per_block\": 1.5", "layers_per_block must be an integer, got 1.5"}};
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> config(c[0]));
      assertTrue(e.getMessage().startsWith("config.json: ") && e.getMessage().contains(c[1]), e.getMessage());
    }
    assertEquals(List.of("some_future_key"), config("\"some_future_key\": 1").ignoredKeys());
  }
}
