package org.diffusion4j.train.nn.diffusers;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The architecture of a diffusers {@code UNet2DModel} as its {@code config.json} gives it (Ho et al. 2020's
 * DDPM U-Net as von Platen et al.'s diffusers library writes it), with diffusers' defaults for absent keys.
 *
 * @param sampleSize the training resolution (0 when absent)
 * @param inChannels input channels
 * @param outChannels output channels
 * @param centerInputSample map the input x to 2x − 1 first
 * @param freqShift {@code downscale_freq_shift} of the sinusoidal timestep embedding
 * @param flipSinToCos cosines first in the timestep embedding
 * @param downBlockTypes {@code DownBlock2D} or {@code AttnDownBlock2D} per level
 * @param upBlockTypes {@code UpBlock2D} or {@code AttnUpBlock2D} per level, deepest first
 * @param blockOutChannels channels per level
 * @param layersPerBlock residual blocks per down level (up levels have one more)
 * @param midBlockScaleFactor {@code output_scale_factor} of the middle block
 * @param downsamplePadding padding of the stride-2 convolutions; 0 pads right and bottom by one instead
 * @param dropout dropout rate of the residual blocks
 * @param attentionHeadDim channels per attention head, or 0 for one head as wide as the block (null)
 * @param normNumGroups GroupNorm groups of the residual blocks, attention and output norm
 * @param attnNormNumGroups GroupNorm groups of the middle block's attention, or 0 for the default
 * @param normEps ε of every GroupNorm
 * @param resnetTimeScaleShift {@code default} (add the embedding) or {@code scale_shift} (FiLM after the norm)
 * @param addAttention attention in the middle block
 * @param classEmbedType {@code null} (a learned table when numClassEmbeds &gt; 0) or {@code timestep}
 * @param numClassEmbeds classes of the class embedding, 0 for none
 * @param timeEmbeddingDim width of the time embedding (4 × blockOutChannels[0] by default)
 * @param ignoredKeys keys of the file that do not change the network (listed by {@code d4j info})
 * @param nullClassLabel the row of the class table that is the null label ∅ of classifier-free guidance
 *     (Ho &amp; Salimans 2022), or −1 for none: diffusers' class embedding has no null label, so a network
 *     trained here with K classes has {@code num_class_embeds = K + 1}, row K is ∅, and its config.json says
 *     so under the key {@code _null_class_label} (diffusers ignores keys that begin with an underscore; a
 *     diffusers user passes {@code class_labels = K} for the unconditional model)
 */
public record UNet2DConfig(int sampleSize, int inChannels, int outChannels, boolean centerInputSample,
    double freqShift, boolean flipSinToCos, List<String> downBlockTypes, List<String> upBlockTypes,
    int[] blockOutChannels, int layersPerBlock, double midBlockScaleFactor, int downsamplePadding, double dropout,
    int attentionHeadDim, int normNumGroups, int attnNormNumGroups, double normEps, String resnetTimeScaleShift,
    boolean addAttention, String classEmbedType, int numClassEmbeds, int timeEmbeddingDim, List<String> ignoredKeys,
    int nullClassLabel) {

  /** The key of config.json that names the null-label row. */
  public static final String NULL_CLASS_LABEL_KEY = "_null_class_label";

  private static final Set<String> DOWN = Set.of("DownBlock2D", "AttnDownBlock2D");
  private static final Set<String> UP = Set.of("UpBlock2D", "AttnUpBlock2D");
  private static final Set<String> KNOWN = Set.of("sample_size", "in_channels", "out_channels",
      "center_input_sample", "time_embedding_type", "time_embedding_dim", "freq_shift", "flip_sin_to_cos",
      "down_block_types", "up_block_types", "block_out_channels", "layers_per_block", "mid_block_scale_factor",
      "downsample_padding", "downsample_type", "upsample_type", "dropout", "act_fn", "attention_head_dim",
      "norm_num_groups", "attn_norm_num_groups", "norm_eps", "resnet_time_scale_shift", "add_attention",
      "class_embed_type", "num_class_embeds", "num_train_timesteps");

  public UNet2DConfig {
    downBlockTypes = List.copyOf(downBlockTypes);
    upBlockTypes = List.copyOf(upBlockTypes);
    blockOutChannels = blockOutChannels.clone();
    ignoredKeys = List.copyOf(ignoredKeys);
    int levels = blockOutChannels.length;
    if (levels < 1 || downBlockTypes.size() != levels || upBlockTypes.size() != levels) {
      throw new IllegalArgumentException("UNet2DModel config: block_out_channels (" + levels + "), down_block_types ("
          + downBlockTypes.size() + ") and up_block_types (" + upBlockTypes.size() + ") must have the same length >= 1");
    }
    for (String t : downBlockTypes) {
      if (!DOWN.contains(t)) {
        throw new IllegalArgumentException("UNet2DModel config: unsupported down block type '" + t
            + "'; accepted: DownBlock2D, AttnDownBlock2D");
      }
    }
    for (String t : upBlockTypes) {
      if (!UP.contains(t)) {
        throw new IllegalArgumentException("UNet2DModel config: unsupported up block type '" + t
            + "'; accepted: UpBlock2D, AttnUpBlock2D");
      }
    }
    positive("in_channels", inChannels);
    positive("out_channels", outChannels);
    positive("layers_per_block", layersPerBlock);
    positive("norm_num_groups", normNumGroups);
    positive("time_embedding_dim", timeEmbeddingDim);
    for (int c : blockOutChannels) {
      positive("block_out_channels", c);
      if (c % normNumGroups != 0) {
        throw new IllegalArgumentException("UNet2DModel config: norm_num_groups " + normNumGroups
            + " does not divide block_out_channels " + c);
      }
    }
    if (attentionHeadDim < 0 || attnNormNumGroups < 0 || numClassEmbeds < 0 || downsamplePadding < 0) {
      throw new IllegalArgumentException("UNet2DModel config: attention_head_dim, attn_norm_num_groups, "
          + "num_class_embeds and downsample_padding must be >= 0");
    }
    if (!(normEps > 0) || !(midBlockScaleFactor > 0) || Double.isInfinite(midBlockScaleFactor)) {
      throw new IllegalArgumentException("UNet2DModel config: norm_eps and mid_block_scale_factor must be > 0, got "
          + normEps + " and " + midBlockScaleFactor);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("UNet2DModel config: dropout must lie in [0, 1), got " + dropout);
    }
    if (!resnetTimeScaleShift.equals("default") && !resnetTimeScaleShift.equals("scale_shift")) {
      throw new IllegalArgumentException("UNet2DModel config: unsupported resnet_time_scale_shift '"
          + resnetTimeScaleShift + "'; accepted: default, scale_shift");
    }
    if (nullClassLabel != -1 && (classEmbedType != null || numClassEmbeds < 2 || nullClassLabel != numClassEmbeds - 1)) {
      throw new IllegalArgumentException("UNet2DModel config: " + NULL_CLASS_LABEL_KEY + " " + nullClassLabel
          + " must be the last row (num_class_embeds − 1 = " + (numClassEmbeds - 1) + ") of a class table "
          + "(class_embed_type null, num_class_embeds >= 2)");
    }
    if (classEmbedType != null && !classEmbedType.equals("timestep")) {
      throw new IllegalArgumentException("UNet2DModel config: unsupported class_embed_type '" + classEmbedType
          + "'; accepted: null (with num_class_embeds), timestep");
    }
  }

  private static void positive(String key, int v) {
    if (v < 1) {
      throw new IllegalArgumentException("UNet2DModel config: " + key + " must be >= 1, got " + v);
    }
  }

  /** Number of resolution levels. */
  public int levels() {
    return blockOutChannels.length;
  }

  @Override
  public int[] blockOutChannels() {
    return blockOutChannels.clone();
  }

  /** Whether the network takes class labels. */
  public boolean classConditional() {
    return numClassEmbeds > 0 || "timestep".equals(classEmbedType);
  }

  /** Parses {@code config.json}; {@code source} names the file in errors. */
  public static UNet2DConfig parse(String json, String source) {
    JsonObject o;
    try {
      JsonElement e = JsonParser.parseString(json);
      if (!e.isJsonObject()) {
        throw new JsonParseException("not an object");
      }
      o = e.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IllegalArgumentException(source + ": not a JSON object");
    }
    try {
      String cls = str(o, "_class_name", "UNet2DModel");
      if (!cls.equals("UNet2DModel")) {
        throw new IllegalArgumentException("_class_name is '" + cls + "'; only UNet2DModel is supported");
      }
      require(o, "time_embedding_type", "positional", "positional");
      require(o, "downsample_type", "conv", "conv");
      require(o, "upsample_type", "conv", "conv");
      String act = str(o, "act_fn", "silu");
      if (!act.equals("silu") && !act.equals("swish")) {
        throw new IllegalArgumentException("act_fn '" + act + "' is not supported; accepted: silu, swish");
      }
      int[] boc = ints(o, "block_out_channels", new int[] {224, 448, 672, 896});
      List<String> ignored = new ArrayList<>();
      for (String k : o.keySet()) {
        if (!k.startsWith("_") && !KNOWN.contains(k)) {
          ignored.add(k);
        }
      }
      return new UNet2DConfig(sampleSize(o), integer(o, "in_channels", 3), integer(o, "out_channels", 3),
          bool(o, "center_input_sample", false), num(o, "freq_shift", 0), bool(o, "flip_sin_to_cos", true),
          strings(o, "down_block_types", List.of("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D")),
          strings(o, "up_block_types", List.of("AttnUpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D")),
          boc, integer(o, "layers_per_block", 2), num(o, "mid_block_scale_factor", 1),
          integer(o, "downsample_padding", 1), num(o, "dropout", 0), integer(o, "attention_head_dim", 8, 0),
          integer(o, "norm_num_groups", 32), integer(o, "attn_norm_num_groups", 0, 0), num(o, "norm_eps", 1e-5),
          str(o, "resnet_time_scale_shift", "default"), bool(o, "add_attention", true),
          o.has("class_embed_type") && !o.get("class_embed_type").isJsonNull() ? str(o, "class_embed_type", null) : null,
          integer(o, "num_class_embeds", 0, 0), integer(o, "time_embedding_dim", 4 * boc[0], 4 * boc[0]), ignored,
          integer(o, NULL_CLASS_LABEL_KEY, -1, -1));
    } catch (IllegalArgumentException | IllegalStateException | ClassCastException | UnsupportedOperationException e) {
      String m = e.getMessage();
      throw new IllegalArgumentException(source + ": " + (m == null ? "malformed value" : m.replaceFirst(
          "^UNet2DModel config: ", "")), e);
    }
  }

  /** The number of real classes: num_class_embeds, less the null-label row if there is one. */
  public int classes() {
    return nullClassLabel >= 0 ? numClassEmbeds - 1 : numClassEmbeds;
  }

  /**
   * A network of this shape trained from scratch on {@code [channels, resolution, resolution]} samples of
   * {@code classes} classes (0: unconditional): sample size, channels and (with classes) a class table of
   * K + 1 rows whose last row is the null label; the other settings are this config's.
   */
  public UNet2DConfig forData(int channels, int resolution, int classes) {
    if (classes > 0 && classEmbedType != null) {
      throw new IllegalArgumentException("UNet2DModel config: class-conditional training uses a class table "
          + "(class_embed_type null), not class_embed_type '" + classEmbedType + "'");
    }
    return new UNet2DConfig(resolution, channels, channels, centerInputSample, freqShift, flipSinToCos,
        downBlockTypes, upBlockTypes, blockOutChannels, layersPerBlock, midBlockScaleFactor, downsamplePadding,
        dropout, attentionHeadDim, normNumGroups, attnNormNumGroups, normEps, resnetTimeScaleShift, addAttention,
        classes > 0 ? null : classEmbedType, classes > 0 ? classes + 1 : classEmbedType != null ? numClassEmbeds : 0,
        timeEmbeddingDim, List.of(), classes > 0 ? classes : -1);
  }

  /**
   * This configuration as diffusers' {@code config.json} of a {@code UNet2DModel} (v0.25 keys, every one
   * explicit so that no default of either side matters), {@link #NULL_CLASS_LABEL_KEY} included when set.
   */
  public JsonObject toDiffusersJson() {
    if (timeEmbeddingDim != 4 * blockOutChannels[0]) {
      throw new IllegalArgumentException("time_embedding_dim " + timeEmbeddingDim + " is not 4 × block_out_channels[0] = "
          + 4 * blockOutChannels[0] + ": diffusers v0.25's UNet2DModel cannot express it");
    }
    JsonObject o = new JsonObject();
    o.addProperty("_class_name", "UNet2DModel");
    o.addProperty("_diffusers_version", "0.25.0");
    if (sampleSize > 0) {
      o.addProperty("sample_size", sampleSize);
    } else {
      o.add("sample_size", com.google.gson.JsonNull.INSTANCE);
    }
    o.addProperty("in_channels", inChannels);
    o.addProperty("out_channels", outChannels);
    o.addProperty("center_input_sample", centerInputSample);
    o.addProperty("time_embedding_type", "positional");
    o.add("freq_shift", number(freqShift));
    o.addProperty("flip_sin_to_cos", flipSinToCos);
    o.add("down_block_types", array(downBlockTypes));
    o.add("up_block_types", array(upBlockTypes));
    JsonArray boc = new JsonArray();
    for (int c : blockOutChannels) {
      boc.add(c);
    }
    o.add("block_out_channels", boc);
    o.addProperty("layers_per_block", layersPerBlock);
    o.add("mid_block_scale_factor", number(midBlockScaleFactor));
    o.addProperty("downsample_padding", downsamplePadding);
    o.addProperty("downsample_type", "conv");
    o.addProperty("upsample_type", "conv");
    o.add("dropout", number(dropout));
    o.addProperty("act_fn", "silu");
    o.add("attention_head_dim", attentionHeadDim == 0 ? com.google.gson.JsonNull.INSTANCE
        : new com.google.gson.JsonPrimitive(attentionHeadDim));
    o.addProperty("norm_num_groups", normNumGroups);
    o.add("attn_norm_num_groups", attnNormNumGroups == 0 ? com.google.gson.JsonNull.INSTANCE
        : new com.google.gson.JsonPrimitive(attnNormNumGroups));
    o.add("norm_eps", number(normEps));
    o.addProperty("resnet_time_scale_shift", resnetTimeScaleShift);
    o.addProperty("add_attention", addAttention);
    o.add("class_embed_type", classEmbedType == null ? com.google.gson.JsonNull.INSTANCE
        : new com.google.gson.JsonPrimitive(classEmbedType));
    o.add("num_class_embeds", numClassEmbeds == 0 ? com.google.gson.JsonNull.INSTANCE
        : new com.google.gson.JsonPrimitive(numClassEmbeds));
    o.add("num_train_timesteps", com.google.gson.JsonNull.INSTANCE);
    if (nullClassLabel >= 0) {
      o.addProperty(NULL_CLASS_LABEL_KEY, nullClassLabel);
    }
    return o;
  }

  /** An integral double as a JSON integer (diffusers' int-typed keys), else as it is. */
  private static com.google.gson.JsonPrimitive number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? new com.google.gson.JsonPrimitive((long) v)
        : new com.google.gson.JsonPrimitive(v);
  }

  private static JsonArray array(List<String> l) {
    JsonArray a = new JsonArray();
    l.forEach(a::add);
    return a;
  }

  /** A one-line summary for {@code d4j info}. */
  public String describe() {
    return String.format(Locale.ROOT,
        "UNet2DModel %s→%s channels, block_out_channels %s, layers_per_block %d, down %s, up %s, "
            + "attention_head_dim %s, norm_num_groups %d, norm_eps %s, time shift %s, freq_shift %s, "
            + "flip_sin_to_cos %s, downsample_padding %d, mid_block_scale_factor %s%s%s%s",
        inChannels, outChannels, java.util.Arrays.toString(blockOutChannels), layersPerBlock, downBlockTypes,
        upBlockTypes, attentionHeadDim == 0 ? "null (one head)" : attentionHeadDim, normNumGroups, normEps,
        resnetTimeScaleShift, freqShift, flipSinToCos, downsamplePadding, midBlockScaleFactor,
        addAttention ? "" : ", no mid attention", classConditional() ? ", " + classes() + " classes" + (nullClassLabel >= 0 ? " + null label (row "
            + nullClassLabel + ")" : "") : "",
        centerInputSample ? ", center_input_sample" : "");
  }

  private static int sampleSize(JsonObject o) {
    if (!o.has("sample_size") || o.get("sample_size").isJsonNull()) {
      return 0;
    }
    JsonElement e = o.get("sample_size");
    return e.isJsonArray() ? e.getAsJsonArray().get(0).getAsInt() : e.getAsInt();
  }

  private static void require(JsonObject o, String key, String dflt, String accepted) {
    String v = str(o, key, dflt);
    if (!v.equals(accepted)) {
      throw new IllegalArgumentException(key + " '" + v + "' is not supported; accepted: " + accepted);
    }
  }

  private static String str(JsonObject o, String key, String dflt) {
    return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : dflt;
  }

  private static boolean bool(JsonObject o, String key, boolean dflt) {
    return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : dflt;
  }

  private static double num(JsonObject o, String key, double dflt) {
    return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsDouble() : dflt;
  }

  private static int integer(JsonObject o, String key, int dflt) {
    if (o.has(key) && o.get(key).isJsonNull()) {
      throw new IllegalArgumentException(key + " must be a number, got null");
    }
    return integer(o, key, dflt, dflt);
  }

  /** An integer key; {@code ifNull} when it is JSON null. */
  private static int integer(JsonObject o, String key, int dflt, int ifNull) {
    if (!o.has(key)) {
      return dflt;
    }
    JsonElement e = o.get(key);
    if (e.isJsonNull()) {
      return ifNull;
    }
    if (e.isJsonArray()) {
      throw new IllegalArgumentException(key + " must be a single integer, got " + e);
    }
    double d = e.getAsDouble();
    if (d != Math.rint(d)) {
      throw new IllegalArgumentException(key + " must be an integer, got " + e);
    }
    return (int) d;
  }

  private static int[] ints(JsonObject o, String key, int[] dflt) {
    if (!o.has(key) || o.get(key).isJsonNull()) {
      return dflt;
    }
    JsonArray a = o.get(key).getAsJsonArray();
    int[] v = new int[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).getAsInt();
    }
    return v;
  }

  private static List<String> strings(JsonObject o, String key, List<String> dflt) {
    if (!o.has(key) || o.get(key).isJsonNull()) {
      return dflt;
    }
    List<String> v = new ArrayList<>();
    for (JsonElement e : o.get(key).getAsJsonArray()) {
      v.add(e.getAsString());
    }
    return v;
  }
}
