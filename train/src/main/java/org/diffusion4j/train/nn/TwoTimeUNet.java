package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A U-Net with two times, the image network of a flow-map model G(x̂, σ, σ′) (Kim et al. 2024, CTM;
 * Geng et al. 2025, Mean Flows): forward takes {@code NDList(x, c)}, {@code NDList(x, c, c′)} or either with
 * labels (INT64) last, x {@code [n, C, H, W]}. As in {@link TwoTimeMlp}, the second time enters as an extra
 * input plane holding c − c′ (zero without c′, the σ′ = σ model) next to x's C channels, the first time
 * through the {@link UNet}'s noise embedding; the output is the inner U-Net's first C channels.
 */
public final class TwoTimeUNet extends FixedBlock implements TwoTimeNetwork {
  private final UNetConfig config;
  private final UNet unet;

  /** @param config the shape for C channels; the inner U-Net takes C + 1 */
  public TwoTimeUNet(UNetConfig config) {
    this.config = config;
    this.unet = addChildBlock("unet", new UNet(new UNetConfig(config.channels() + 1, config.resolution(),
        config.baseChannels(), config.multipliers(), config.blocksPerLevel(), config.attentionResolutions(),
        config.dropout(), config.classes(), config.heads(), config.embedding(), config.downsample())));
  }

  /** The shape for C. */
  public UNetConfig config() {
    return config;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    long c = config.channels();
    if (x.getShape().dimension() != 4 || x.getShape().get(1) != c) {
      throw new IllegalArgumentException("two-time U-Net: x must be [n, " + c + ", H, W], got " + x.getShape());
    }
    NDArray t = inputs.get(1);
    NDArray r = null;
    NDArray labels = null;
    for (int i = 2; i < inputs.size(); i++) {
      NDArray a = inputs.get(i);
      if (a.getDataType() == DataType.INT64 || a.getDataType() == DataType.INT32) {
        labels = a;
      } else {
        r = a;
      }
    }
    long n = x.getShape().get(0);
    NDArray gap = (r == null ? t.zerosLike() : t.sub(r)).reshape(n, 1, 1, 1).toType(x.getDataType(), false);
    NDArray plane = x.get(":, 0:1, :, :").zerosLike().add(gap);
    NDArray in = x.concat(plane, 1);
    NDList list = labels == null ? new NDList(in, t) : new NDList(in, t, labels);
    NDArray f = unet.forward(ps, list, training).singletonOrThrow();
    return new NDList(f.get(":, 0:" + c + ", :, :"));
  }
}
