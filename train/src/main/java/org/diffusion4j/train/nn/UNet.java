package org.diffusion4j.train.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.diffusion4j.tensor.Scalars;

/**
 * A DDPM++-style U-Net, the raw network F for images (Ho et al. 2020 App. B; Song et al. 2021
 * "DDPM++"; Karras et al. 2022 {@code SongUNet}). Forward takes
 * {@code NDList(x, cNoise)} or {@code NDList(x, cNoise, labels)} with x {@code [n, C, R, R]} (already
 * times c_in), c_noise {@code [n]}, labels int {@code [n]} (K = the learned null label, also used when
 * labels are absent), and returns {@code NDList(F)} shaped like x.
 *
 * <pre>
 *   e = SiLU(W₂ SiLU(W₁ (emb(c_noise) [+ E(label)])))         embedding, 4·base wide
 *   h = conv3x3(x); skips = [h]
 *   down: per level, blocksPerLevel × ResBlock(+attention), push each; then downsample, push
 *   middle: ResBlock, attention, ResBlock
 *   up: per level, (blocksPerLevel + 1) × ResBlock(cat(h, pop))(+attention); then nearest×2 + conv3x3
 *   F = conv3x3(SiLU(GroupNorm(h)))                            (near-zero init)
 * </pre>
 *
 * ResBlock: {@code h = conv3x3(SiLU(GN(x))) + W e; h = conv3x3(dropout(SiLU(GN(h))));
 * y = (h + skip(x))/√2}, skip a 1×1 conv when the channel count changes. GroupNorm uses
 * min(32, C/4) groups. Layers closing a residual branch start near zero (EDM's init).
 */
public final class UNet extends FixedBlock {
  private static final float SKIP_SCALE = (float) Math.sqrt(0.5);
  private final UNetConfig config;
  private final Dense embed1;
  private final Dense embed2;
  private final ClassEmbedding classEmbedding;
  private final Conv in;
  private final List<FixedBlock> down = new ArrayList<>();
  private final List<FixedBlock> middle = new ArrayList<>();
  private final List<FixedBlock> up = new ArrayList<>();
  private final GroupNorm outNorm;
  private final Conv out;

  /** A network of the given shape; call {@code initialize(manager, FLOAT32, new Shape(n, C, R, R))}. */
  public UNet(UNetConfig config) {
    this.config = config;
    int base = config.baseChannels();
    int emb = 4 * base;
    embed1 = addChildBlock("embed1", new Dense(base, emb));
    embed2 = addChildBlock("embed2", new Dense(emb, emb));
    classEmbedding = config.classes() > 0
        ? addChildBlock("classEmbedding", new ClassEmbedding(config.classes(), base)) : null;
    in = addChildBlock("in", new Conv(config.channels(), base, 3, 1, 1));
    int[] mult = config.multipliers();
    double dropout = config.dropout();
    Deque<Integer> skipChannels = new ArrayDeque<>();
    skipChannels.push(base);
    int ch = base;
    int res = config.resolution();
    // Encoder.
    for (int l = 0; l < mult.length; l++) {
      int outCh = base * mult[l];
      for (int b = 0; b < config.blocksPerLevel(); b++) {
        down.add(addChildBlock("down" + l + "_" + b, new ResBlock(ch, outCh, emb, dropout,
            config.attentionAt(res) ? config.heads() : 0)));
        ch = outCh;
        skipChannels.push(ch);
      }
      if (l < mult.length - 1) {
        down.add(addChildBlock("down" + l + "_sample", new Down(ch, config.downsample())));
        skipChannels.push(ch);
        res /= 2;
      }
    }
    // Middle.
    middle.add(addChildBlock("mid0", new ResBlock(ch, ch, emb, dropout, config.heads())));
    middle.add(addChildBlock("mid1", new ResBlock(ch, ch, emb, dropout, 0)));
    // Decoder.
    for (int l = mult.length - 1; l >= 0; l--) {
      int outCh = base * mult[l];
      for (int b = 0; b <= config.blocksPerLevel(); b++) {
        up.add(addChildBlock("up" + l + "_" + b, new ResBlock(ch + skipChannels.pop(), outCh, emb, dropout,
            config.attentionAt(res) ? config.heads() : 0)));
        ch = outCh;
      }
      if (l > 0) {
        up.add(addChildBlock("up" + l + "_sample", new Up(ch)));
        res *= 2;
      }
    }
    outNorm = addChildBlock("outNorm", new GroupNorm(GroupNorm.defaultGroups(ch), ch));
    out = addChildBlock("out", new Conv(ch, config.channels(), 3, 1, 1e-5));
  }

  /** The shape this network was built from. */
  public UNetConfig config() {
    return config;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray cNoise = inputs.get(1);
    NDArray labels = ClassEmbedding.labels(inputs, classEmbedding);
    Shape s = x.getShape();
    long n = s.get(0);
    int r = config.resolution();
    if (s.dimension() != 4 || s.get(1) != config.channels() || s.get(2) != r || s.get(3) != r
        || cNoise.getShape().size() != n) {
      throw new IllegalArgumentException("UNet expects x [n, " + config.channels() + ", " + r + ", " + r
          + "] and c_noise [n], got " + s + " and " + cNoise.getShape());
    }
    // Noise (and class) embedding.
    NDArray e = NoiseEmbedding.embed(config.embedding(), cNoise.reshape(n), config.baseChannels());
    if (classEmbedding != null) {
      e = e.add(classEmbedding.apply(ps, labels, x, training));
    }
    e = Silu.apply(embed1.apply(ps, e, training));
    e = Silu.apply(embed2.apply(ps, e, training));
    // Encoder.
    Deque<NDArray> skips = new ArrayDeque<>();
    NDArray h = in.apply(ps, x, training);
    skips.push(h);
    for (FixedBlock b : down) {
      h = b instanceof ResBlock rb ? rb.apply(ps, h, e, training) : ((Down) b).apply(ps, h, training);
      skips.push(h);
    }
    // Middle.
    for (FixedBlock b : middle) {
      h = ((ResBlock) b).apply(ps, h, e, training);
    }
    // Decoder.
    for (FixedBlock b : up) {
      h = b instanceof ResBlock rb ? rb.apply(ps, h.concat(skips.pop(), 1), e, training)
          : ((Up) b).apply(ps, h, training);
    }
    h = outNorm.applySilu(ps, h, training);
    return new NDList(out.apply(ps, h, training));
  }

  /** The DDPM++ residual block with the embedding added between its convolutions, optional attention. */
  static final class ResBlock extends FixedBlock {
    private final GroupNorm norm0;
    private final Conv conv0;
    private final Dense affine;
    private final GroupNorm norm1;
    private final Conv conv1;
    private final Conv skip;
    private final SelfAttention attention;
    private final float dropout;
    private final Scalars.Constant skipScale = new Scalars.Constant(SKIP_SCALE);

    ResBlock(int in, int out, int emb, double dropout, int heads) {
      norm0 = addChildBlock("norm0", new GroupNorm(GroupNorm.defaultGroups(in), in));
      conv0 = addChildBlock("conv0", new Conv(in, out, 3, 1, 1));
      affine = addChildBlock("affine", new Dense(emb, out));
      norm1 = addChildBlock("norm1", new GroupNorm(GroupNorm.defaultGroups(out), out));
      conv1 = addChildBlock("conv1", new Conv(out, out, 3, 1, 1e-5));
      skip = in != out ? addChildBlock("skip", new Conv(in, out, 1, 1, 1)) : null;
      attention = heads > 0 ? addChildBlock("attention", new SelfAttention(out, heads)) : null;
      this.dropout = (float) dropout;
    }

    NDArray apply(ParameterStore ps, NDArray x, NDArray e, boolean training) {
      NDArray h = conv0.apply(ps, norm0.applySilu(ps, x, training), training);
      h = h.add(affine.apply(ps, e, training).expandDims(2).expandDims(3));
      h = norm1.applySilu(ps, h, training);
      if (dropout > 0 && training) {
        h = Dropout.dropout(h, dropout, true).singletonOrThrow();
      }
      h = conv1.apply(ps, h, training);
      h = skipScale.mul(h.add(skip == null ? x : skip.apply(ps, x, training)), conv1.weightArray());
      return attention == null ? h : attention.apply(ps, h, training);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
    }
  }

  /** Halves the resolution: strided 3×3 conv or 2×2 average pooling. */
  static final class Down extends FixedBlock {
    private final Conv conv;

    Down(int ch, UNetConfig.Downsample kind) {
      conv = kind == UNetConfig.Downsample.CONV ? addChildBlock("conv", new Conv(ch, ch, 3, 2, 1)) : null;
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
      if (conv != null) {
        return conv.apply(ps, x, training);
      }
      return Pool.avgPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
  }

  /** Doubles the resolution: nearest-neighbour then 3×3 conv. */
  static final class Up extends FixedBlock {
    private final Conv conv;

    Up(int ch) {
      conv = addChildBlock("conv", new Conv(ch, ch, 3, 1, 1));
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
      return conv.apply(ps, nearest2x(x), training);
    }

    /**
     * Each pixel repeated 2×2. On PyTorch one {@code upsample_nearest2d} (same values; its backward sums
     * 2×2 blocks directly, where two {@code repeat}s' backward reduces expanded copies).
     */
    static NDArray nearest2x(NDArray x) {
      if (x instanceof PtNDArray p) {
        Shape s = x.getShape();
        return JniUtils.interpolate(p, new long[] {2 * s.get(2), 2 * s.get(3)}, 0, false);
      }
      return x.repeat(2, 2).repeat(3, 2);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
        PairList<String, Object> params) {
      return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }
  }
}
