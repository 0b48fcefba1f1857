package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A noise-conditional image classifier for classifier guidance: three 3×3 convolution stages (width w,
 * 2w, 2w; SiLU; 2×2 average pooling after the first two), the noise embedding added to every stage as a
 * per-channel bias, then global average pooling and a K-way head — the encoder half of a diffusion
 * U-Net in miniature, as Dhariwal &amp; Nichol 2021 (§4) use for guidance. Average rather than max pooling
 * keeps the input gradient spread over the image. Forward takes {@code NDList(x, cNoise)} (x already
 * times c_in, {@code [n, C, H, W]}) and returns {@code NDList(logits [n, K])}; any H, W ≥ 4.
 */
public final class ClassifierCnn extends FixedBlock {
  private static final int EMBED = 32;

  private final int channels;
  private final int classes;
  private final Dense embed;
  private final Conv[] convs = new Conv[3];
  private final Dense[] biases = new Dense[3];
  private final Dense head;

  /**
   * @param channels image channels C
   * @param width w, the first stage's channels (≥ 1)
   * @param classes K ≥ 2
   */
  public ClassifierCnn(int channels, int width, int classes) {
    MlpConfig.check(channels >= 1, "channels", channels, "≥ 1");
    MlpConfig.check(width >= 1, "width", width, "≥ 1");
    MlpConfig.check(classes >= 2, "classes", classes, "≥ 2");
    this.channels = channels;
    this.classes = classes;
    embed = addChildBlock("embed", new Dense(EMBED, 4 * width));
    int[] out = {width, 2 * width, 2 * width};
    int in = channels;
    for (int i = 0; i < 3; i++) {
      convs[i] = addChildBlock("conv" + i, new Conv(in, out[i], 3, 1, 1));
      biases[i] = addChildBlock("bias" + i, new Dense(4 * width, out[i]));
      in = out[i];
    }
    head = addChildBlock("head", new Dense(2 * width, classes));
  }

  /** Number of classes K. */
  public int classes() {
    return classes;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray cNoise = inputs.get(1);
    Shape s = x.getShape();
    long n = s.get(0);
    if (s.dimension() != 4 || s.get(1) != channels || s.get(2) < 4 || s.get(3) < 4 || cNoise.getShape().size() != n) {
      throw new IllegalArgumentException("ClassifierCnn(" + channels + " channels) expects x [n, " + channels
          + ", H ≥ 4, W ≥ 4] and c_noise [n], got " + s + " and " + cNoise.getShape());
    }
    NDArray e = Silu.apply(embed.apply(ps,
        NoiseEmbedding.embed(NoiseEmbedding.Kind.SINUSOIDAL, cNoise.reshape(n), EMBED), training));
    NDArray h = x;
    for (int i = 0; i < 3; i++) {
      NDArray b = biases[i].apply(ps, e, training);
      h = Silu.apply(convs[i].apply(ps, h, training).add(b.reshape(n, b.getShape().get(1), 1, 1)));
      if (i < 2) {
        h = Pool.avgPool2d(h, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), true, true);
      }
    }
    return new NDList(head.apply(ps, h.mean(new int[] {3}).mean(new int[] {2}), training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
  }
}
