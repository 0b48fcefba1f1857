package org.diffusion4j.train.nn;

import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import org.diffusion4j.train.nn.diffusers.UNet2DConfig;
import org.diffusion4j.train.nn.diffusers.UNet2DModel;

/**
 * diffusers' {@code UNet2DModel} (the DDPM U-Net of Ho et al. 2020, App. B, in the layout of the diffusers
 * library) as the raw network F of a run, so that a model trained here can be written as a diffusers model
 * directory. F is called as {@code F(c_in x̂; c_noise, labels)} with c_noise as its timestep input; with the
 * {@code eps} (or {@code vp}) objective on the {@code ddpm} process c_noise is the DDPM timestep t itself and
 * F is exactly diffusers' ε-network.
 *
 * <p>In a run's config.json: {@code {"type": "diffusers-unet2d", "unet": {…diffusers' config.json…}}}.
 *
 * @param unet the architecture
 */
public record DiffusersUNetConfig(UNet2DConfig unet) implements NetworkConfig {

  /** The type tag. */
  public static final String TYPE = "diffusers-unet2d";

  /**
   * A small default for images of {@code channels}×{@code resolution}² (two levels of 32 and 64 channels, one
   * residual block each, attention on the deeper level, 8 groups): diffusers' defaults otherwise.
   */
  public static UNet2DConfig small() {
    return UNet2DConfig.parse("{\"block_out_channels\": [32, 64], \"layers_per_block\": 1, "
        + "\"down_block_types\": [\"DownBlock2D\", \"AttnDownBlock2D\"], "
        + "\"up_block_types\": [\"AttnUpBlock2D\", \"UpBlock2D\"], \"norm_num_groups\": 8}", "default config");
  }

  /**
   * {@code base} fitted to samples of {@code shape} = [C, H, H] and {@code classes} classes (0: unconditional;
   * else a class table with a null-label row, {@link UNet2DConfig#forData}): what
   * {@code Training.networkFor((shape, classes) -> DiffusersUNetConfig.forData(base, shape, classes))} passes.
   */
  public static DiffusersUNetConfig forData(UNet2DConfig base, long[] shape, int classes) {
    long f = 1L << (base.levels() - 1);
    if (shape.length != 3 || shape[1] != shape[2] || shape[1] % f != 0) {
      throw new IllegalArgumentException("the diffusers UNet2DModel needs square images [C, H, H] with H a multiple of "
          + f + " (2^(levels − 1), " + base.levels() + " levels), data has shape " + java.util.Arrays.toString(shape));
    }
    return new DiffusersUNetConfig(base.forData((int) shape[0], (int) shape[1], classes));
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public Block build() {
    return new UNet2DModel(unet);
  }

  @Override
  public String toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("type", TYPE);
    JsonObject u = unet.toDiffusersJson();
    // Run configs are written without JSON nulls, and an absent attention_head_dim means diffusers' 8:
    // one head as wide as the block (null in diffusers' file) is stored as 0, which the parser reads the same.
    if (u.get("attention_head_dim").isJsonNull()) {
      u.addProperty("attention_head_dim", 0);
    }
    o.add("unet", u);
    return Json.GSON.toJson(o);
  }

  @Override
  public String toString() {
    return unet.describe();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DiffusersUNetConfig c && toJson().equals(c.toJson());
  }

  @Override
  public int hashCode() {
    return toJson().hashCode();
  }
}
