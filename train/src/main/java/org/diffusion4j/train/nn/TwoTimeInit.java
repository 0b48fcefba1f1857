package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import java.util.Map;
import org.diffusion4j.train.loop.Tensor;
import org.diffusion4j.train.loop.Trainer;

/**
 * Starts a two-time network ({@link TwoTimeMlp}, {@link TwoTimeUNet}) from a trained one-time network of
 * the same shape, as consistency trajectory models start from their teacher (Kim et al. 2024, §4): every
 * tensor is copied; the input layer's extra column (the c − c′ feature or plane) is zero and the output
 * layer's extra row is the teacher's nothing (zero), so at first {@code g(x̂, σ, σ′)} is the teacher's
 * denoiser for every σ′.
 */
public final class TwoTimeInit {
  private TwoTimeInit() {}

  /**
   * Copies {@code teacher}'s tensors (one-time names) into {@code twoTime}'s parameters.
   *
   * @param what the source, for error messages
   */
  public static void load(Block twoTime, Map<String, Tensor> teacher, String what) {
    Map<String, NDArray> params = Trainer.parameters(twoTime);
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      String name = e.getKey();
      int cut = name.indexOf('_');
      String inner = cut < 0 ? name : name.substring(cut + 1);
      Tensor t = teacher.get(inner);
      if (t == null) {
        throw new IllegalArgumentException(what + " has no tensor '" + inner + "' for two-time parameter '" + name
            + "'; the teacher must have the student's network shape");
      }
      NDArray dst = e.getValue();
      long[] want = dst.getShape().getShape();
      long[] have = t.shape();
      if (want.length != have.length) {
        throw new IllegalArgumentException(what + " tensor '" + inner + "' has rank " + have.length + ", expected "
            + want.length);
      }
      NDIndex slice = new NDIndex();
      for (int k = 0; k < want.length; k++) {
        if (want[k] != have[k] && want[k] != have[k] + 1) {
          throw new IllegalArgumentException(what + " tensor '" + inner + "' has shape "
              + java.util.Arrays.toString(have) + ", not that of '" + name + "' " + dst.getShape() + " (or one less)");
        }
        slice.addSliceDim(0, have[k]);
      }
      NDManager m = dst.getManager();
      try (NDArray src = t.toNDArray(m)) {
        NDArray full = dst.zerosLike();
        full.set(slice, src.toType(dst.getDataType(), false));
        dst.set(full.toByteBuffer());
        full.close();
      }
    }
  }
}
