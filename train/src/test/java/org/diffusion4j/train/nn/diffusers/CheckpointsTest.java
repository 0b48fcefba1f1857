package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffusion4j.io.Npy;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.train.loop.Safetensors;
import org.diffusion4j.train.loop.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading diffusers checkpoints: every tensor consumed, old attention names, float16, one clear error. */
class CheckpointsTest {
  private static UNet2DConfig config;
  private static Map<String, Tensor> tensors;
  @TempDir Path tmp;

  @BeforeAll
  static void read() throws IOException {
    Path d = Fixture.dir().resolve("unet");
    config = UNet2DConfig.parse(Files.readString(d.resolve("config.json")), "config.json");
    tensors = Safetensors.read(d.resolve("diffusion_pytorch_model.safetensors")).tensors();
  }

  private static IllegalArgumentException loadError(Map<String, Tensor> t) {
    try (NDManager m = NDManager.newBaseManager()) {
      UNet2DModel u = UNet2DModel.create(config, m);
      return assertThrows(IllegalArgumentException.class, () -> Checkpoints.load(u, t, "w.safetensors"));
    }
  }

  private static double[] forward(Map<String, Tensor> t) throws IOException {
    NpyArray x = Fixture.expected("forward_x.npy");
    try (NDManager m = NDManager.newBaseManager()) {
      UNet2DModel u = UNet2DModel.create(config, m);
      Checkpoints.load(u, t, "w");
      return Reference.values(u.apply(new ParameterStore(m, false), Reference.array(m, x.data(), x.shape()),
          new double[] {0, 417, 999}, null, false));
    }
  }

  @Test
  void missingExtraAndMisShapedTensorsAreNamed() {
    Map<String, Tensor> missing = new LinkedHashMap<>(tensors);
    missing.remove("mid_block.attentions.0.to_k.bias");
    IllegalArgumentException e = loadError(missing);
    assertTrue(e.getMessage().startsWith("w.safetensors: missing tensor 'mid_block.attentions.0.to_k.bias'"),
        e.getMessage());

    Map<String, Tensor> extra = new LinkedHashMap<>(tensors);
    extra.put("up_blocks.0.resnets.9.conv1.weight", Tensor.of(new float[] {1}, 1));
    e = loadError(extra);
    assertEquals("w.safetensors: unexpected tensor 'up_blocks.0.resnets.9.conv1.weight' (not a parameter of this "
        + "UNet2DModel config)", e.getMessage());

    Map<String, Tensor> shaped = new LinkedHashMap<>(tensors);
    Tensor w = shaped.get("conv_in.weight");
    shaped.put("conv_in.weight", new Tensor(w.dtype(), new long[] {32, 3, 9, 1}, w.data()));
    e = loadError(shaped);
    assertEquals("w.safetensors: tensor 'conv_in.weight' has shape [32, 3, 9, 1], this UNet2DModel config needs "
        + "[32, 3, 3, 3]", e.getMessage());

    Map<String, Tensor> nan = new LinkedHashMap<>(tensors);
    nan.put("conv_out.bias", Tensor.of(new float[] {0, Float.NaN, 0}, 3));
    e = loadError(nan);
    assertTrue(e.getMessage().contains("'conv_out.bias' holds a non-finite value at flat index 1"), e.getMessage());
  }

  @Test
  void oldAttentionNamesLoadTheSameNetwork() throws IOException {
    Map<String, Tensor> old = new LinkedHashMap<>();
    int renamed = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String k = e.getKey().replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
          .replace(".to_out.0.", ".proj_attn.");
      renamed += k.equals(e.getKey()) ? 0 : 1;
      old.put(k, e.getValue());
    }
    assertEquals(4 * 8, renamed); // four attentions (down 1, mid 1, up 2) × (q, k, v, out) × (weight, bias)
    assertArrayEquals(forward(tensors), forward(old));
    Map<String, Tensor> both = new LinkedHashMap<>(tensors);
    both.put("mid_block.attentions.0.query.weight", tensors.get("mid_block.attentions.0.to_q.weight"));
    IllegalArgumentException e = loadError(both);
    assertTrue(e.getMessage().contains("are both the parameter 'mid_block.attentions.0.to_q.weight'"), e.getMessage());
  }

  /** float → IEEE half, round to nearest (test helper). */
  static short half(float f) {
    int bits = Float.floatToIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int e = ((bits >>> 23) & 0xff) - 127 + 15;
    int mant = bits & 0x7fffff;
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      mant = (mant | 0x800000) >> (1 - e);
      return (short) (sign | (mant + 0x1000) >> 13);
    }
    return (short) (sign | ((e << 10) + ((mant + 0x1000) >> 13)));
  }

  @Test
  void float16CheckpointsAreConvertedOnLoad() throws IOException {
    Map<String, Tensor> f16 = new LinkedHashMap<>();
    Map<String, Tensor> rounded = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      float[] v = e.getValue().toFloatArray();
      ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
      float[] r = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        short h = half(v[i]);
        b.putShort(h);
        r[i] = (float) Npy.halfToDouble(h);
      }
      f16.put(e.getKey(), new Tensor(Tensor.Dtype.F16, e.getValue().shape(), b.array()));
      rounded.put(e.getKey(), Tensor.of(r, e.getValue().shape()));
    }
    // Written to and read back from a file, as a diffusers .fp16 variant.
    Path unet = tmp.resolve("m").resolve("unet");
    Files.createDirectories(unet);
    Files.copy(Fixture.dir().resolve("unet/config.json"), unet.resolve("config.json"));
    Files.copy(Fixture.dir().resolve("scheduler/scheduler_config.json"), unet.resolve("scheduler_config.json"));
    Safetensors.write(unet.resolve("diffusion_pytorch_model.fp16.safetensors"), f16, Map.of());
    double[] fromF16;
    NpyArray x = Fixture.expected("forward_x.npy");
    try (DiffusersModel m = DiffusersModel.load(unet); NDManager nd = NDManager.newBaseManager()) {
      fromF16 = Reference.values(m.unet().apply(new ParameterStore(nd, false), Reference.array(nd, x.data(),
          x.shape()), new double[] {0, 417, 999}, null, false));
    }
    assertArrayEquals(forward(rounded), fromF16);
    double e = Fixture.relative(fromF16, Fixture.expected("forward_out.npy").data());
    assertTrue(e > 1e-6 && e < 2e-2, "float16 weights change the output by round-off only: " + e);
  }

  @Test
  void aDirectoryWithoutSafetensorsOrSchedulerSaysWhatIsMissing() throws IOException {
    Path unet = tmp.resolve("u");
    Files.createDirectories(unet);
    Files.copy(Fixture.dir().resolve("unet/config.json"), unet.resolve("config.json"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiffusersModel.load(unet));
    assertTrue(e.getMessage().contains("no scheduler/scheduler_config.json found; give one with --scheduler-config"),
        e.getMessage());
    Files.writeString(unet.resolve("diffusion_pytorch_model.bin"), "pickle", StandardCharsets.UTF_8);
    e = assertThrows(IllegalArgumentException.class,
        () -> DiffusersModel.load(unet, Fixture.dir().resolve("scheduler/scheduler_config.json")));
    assertTrue(e.getMessage().contains("only diffusion_pytorch_model.bin, a pickle"), e.getMessage());
    assertTrue(DiffusersModel.isModelDir(unet));
    assertTrue(!DiffusersModel.isModelDir(tmp));
  }
}
