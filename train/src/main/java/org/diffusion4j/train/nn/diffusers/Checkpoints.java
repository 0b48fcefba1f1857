package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.train.loop.Tensor;

/**
 * Fills a {@link UNet2DModel} from a diffusers state dict (the tensors of
 * {@code diffusion_pytorch_model.safetensors}). Every tensor must be consumed and every parameter filled
 * with the right shape; the first missing, mis-shaped or unexpected tensor stops the load with one error
 * naming it. The attention names of diffusers before v0.14 ({@code query}, {@code key}, {@code value},
 * {@code proj_attn}), which hub checkpoints such as google/ddpm-* still carry, are read as {@code to_q},
 * {@code to_k}, {@code to_v}, {@code to_out.0}. float16, bfloat16 and float64 tensors are converted to
 * float32.
 */
public final class Checkpoints {
  private static final List<String[]> OLD_NAMES = List.of(new String[] {".query.", ".to_q."},
      new String[] {".key.", ".to_k."}, new String[] {".value.", ".to_v."}, new String[] {".proj_attn.", ".to_out.0."});

  private Checkpoints() {}

  /** The tensors under current diffusers names; an error if an old and a new name collide. */
  public static Map<String, Tensor> modernNames(Map<String, Tensor> tensors, String source) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    Map<String, String> from = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String name = e.getKey();
      for (String[] r : OLD_NAMES) {
        name = name.replace(r[0], r[1]);
      }
      String before = from.put(name, e.getKey());
      if (before != null) {
        throw new IllegalArgumentException(source + ": tensors '" + before + "' and '" + e.getKey()
            + "' are both the parameter '" + name + "'");
      }
      out.put(name, e.getValue());
    }
    return out;
  }

  /**
   * Loads {@code tensors} into {@code model}.
   *
   * @param source the file, for errors
   */
  public static void load(UNet2DModel model, Map<String, Tensor> tensors, String source) {
    Map<String, Tensor> byName = modernNames(tensors, source);
    Map<String, Parameter> params = model.namedParameters();
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      Tensor t = byName.get(e.getKey());
      if (t == null) {
        throw new IllegalArgumentException(source + ": missing tensor '" + e.getKey() + "' of shape "
            + Arrays.toString(e.getValue().getShape().getShape()) + " (the file has " + tensors.size()
            + " tensors, this UNet2DModel config needs " + params.size() + ")");
      }
      long[] want = e.getValue().getShape().getShape();
      if (!Arrays.equals(t.shape(), want)) {
        throw new IllegalArgumentException(source + ": tensor '" + e.getKey() + "' has shape "
            + Arrays.toString(t.shape()) + ", this UNet2DModel config needs " + Arrays.toString(want));
      }
    }
    for (String name : byName.keySet()) {
      if (!params.containsKey(name)) {
        throw new IllegalArgumentException(source + ": unexpected tensor '" + name + "' (not a parameter of this "
            + "UNet2DModel config)");
      }
    }
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      Tensor t = byName.get(e.getKey());
      switch (t.dtype()) {
        case F32: case F16: case BF16: case F64:
          break;
        default:
          throw new IllegalArgumentException(source + ": tensor '" + e.getKey() + "' has dtype " + t.dtype()
              + "; accepted: F32, F16, BF16, F64");
      }
      float[] v = t.toFloatArray();
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw new IllegalArgumentException(source + ": tensor '" + e.getKey() + "' holds a non-finite value at "
              + "flat index " + i);
        }
      }
      NDArray a = e.getValue().getArray();
      a.set(FloatBuffer.wrap(v));
    }
  }
}
