package org.diffusion4j.train.nn.diffusers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.train.nn.GroupNorm;
import org.diffusion4j.train.nn.Silu;
import org.diffusion4j.tensor.Scalars;

/**
 * diffusers' {@code UNet2DModel} (the DDPM U-Net of Ho et al. 2020, App. B, in the layout of the diffusers
 * library, v0.25) built from its {@link UNet2DConfig}, with parameters named as diffusers names its tensors.
 *
 * <pre>
 *   emb = time_embedding(Timesteps(t)) [+ class_embedding(label)]
 *   h = conv_in(center ? 2x − 1 : x); skips = [h]
 *   down_blocks: resnets (+ attention), each output pushed; downsampler (not on the last level), pushed
 *   mid_block: resnet, attention, resnet (output_scale_factor = mid_block_scale_factor)
 *   up_blocks: layers_per_block + 1 resnets on cat(h, skips.pop()) (+ attention); upsampler but on the last
 *   out = conv_out(SiLU(conv_norm_out(h)))
 * </pre>
 *
 * Forward takes {@code NDList(x [n, C, H, W], t [n])} or {@code NDList(x, t, labels INT64 [n])} and returns
 * {@code NDList(out)}: the model output (ε, x0 or v, as its scheduler's {@code prediction_type} says) for the
 * (integer or fractional) training timesteps t. H and W must be multiples of 2^(levels − 1).
 * Call {@code initialize(manager, FLOAT32, new Shape(1, C, H, W))}, then {@link Checkpoints#load} its weights.
 */
public final class UNet2DModel extends DiffusersBlock {
  private final UNet2DConfig config;
  private final Map<String, Parameter> names = new LinkedHashMap<>();
  private final Conv2dLayer convIn;
  private final TimestepEmbedding timeEmbedding;
  private final Parameter classWeight;
  private final TimestepEmbedding classTimestep;
  private final List<UNetBlocks.Down> down = new ArrayList<>();
  private final UNetBlocks.Mid mid;
  private final List<UNetBlocks.Up> up = new ArrayList<>();
  private final GroupNorm normOut;
  private final Conv2dLayer convOut;

  /** The network of {@code config}, parameters uninitialised. */
  public UNet2DModel(UNet2DConfig config) {
    this.config = config;
    int[] boc = config.blockOutChannels();
    int temb = config.timeEmbeddingDim();
    convIn = addChildBlock("conv_in", new Conv2dLayer(names, "conv_in", config.inChannels(), boc[0], 3, 1, 1));
    timeEmbedding = addChildBlock("time_embedding", new TimestepEmbedding(names, "time_embedding", boc[0], temb));
    if (config.numClassEmbeds() > 0 && config.classEmbedType() == null) {
      classWeight = param(names, "class_embedding.weight", new Shape(config.numClassEmbeds(), temb),
          standardNormal());
      classTimestep = null;
    } else if ("timestep".equals(config.classEmbedType())) {
      classWeight = null;
      classTimestep = addChildBlock("class_embedding",
          new TimestepEmbedding(names, "class_embedding", boc[0], temb));
    } else {
      classWeight = null;
      classTimestep = null;
    }
    boolean scaleShift = config.resnetTimeScaleShift().equals("scale_shift");
    int levels = config.levels();
    int out = boc[0];
    for (int i = 0; i < levels; i++) {
      int in = out;
      out = boc[i];
      UNetBlocks.Common c = new UNetBlocks.Common(temb, config.normNumGroups(), config.normEps(), scaleShift,
          config.dropout(), config.attentionHeadDim() == 0 ? out : config.attentionHeadDim());
      down.add(addChildBlock("down" + i, new UNetBlocks.Down(names, "down_blocks." + i, in, out,
          config.layersPerBlock(), config.downBlockTypes().get(i).startsWith("Attn"), i < levels - 1,
          config.downsamplePadding(), c)));
    }
    int deepest = boc[levels - 1];
    int attnGroups = config.attnNormNumGroups() > 0 ? config.attnNormNumGroups()
        : scaleShift ? 0 : config.normNumGroups();
    mid = addChildBlock("mid_block", new UNetBlocks.Mid(names, "mid_block", deepest, config.midBlockScaleFactor(),
        config.addAttention(), attnGroups, new UNetBlocks.Common(temb, config.normNumGroups(), config.normEps(),
            scaleShift, config.dropout(), config.attentionHeadDim() == 0 ? deepest : config.attentionHeadDim())));
    out = boc[levels - 1];
    for (int i = 0; i < levels; i++) {
      int prev = out;
      out = boc[levels - 1 - i];
      int in = boc[Math.max(levels - 2 - i, 0)];
      UNetBlocks.Common c = new UNetBlocks.Common(temb, config.normNumGroups(), config.normEps(), scaleShift,
          config.dropout(), config.attentionHeadDim() == 0 ? out : config.attentionHeadDim());
      up.add(addChildBlock("up" + i, new UNetBlocks.Up(names, "up_blocks." + i, in, prev, out,
          config.layersPerBlock() + 1, config.upBlockTypes().get(i).startsWith("Attn"), i < levels - 1, c)));
    }
    normOut = groupNorm(names, "conv_norm_out", config.normNumGroups(), boc[0], config.normEps());
    convOut = addChildBlock("conv_out", new Conv2dLayer(names, "conv_out", boc[0], config.outChannels(), 3, 1, 1));
  }

  /** The configuration. */
  public UNet2DConfig config() {
    return config;
  }

  /** Every parameter under its diffusers tensor name, in construction order (unmodifiable). */
  public Map<String, Parameter> namedParameters() {
    return Collections.unmodifiableMap(names);
  }

  /** Number of scalar parameters. */
  public long parameterCount() {
    long n = 0;
    for (Parameter p : names.values()) {
      n += p.getShape().size();
    }
    return n;
  }

  /**
   * A new network of {@code config} in {@code manager}, initialised as diffusers initialises a new
   * {@code UNet2DModel} (PyTorch's layer defaults, drawn from the engine's random generator), ready to be
   * trained or to have a checkpoint loaded over it.
   */
  public static UNet2DModel create(UNet2DConfig config, NDManager manager) {
    UNet2DModel m = new UNet2DModel(config);
    int r = Math.max(1, config.sampleSize()) << (config.levels() - 1);
    m.initialize(manager, DataType.FLOAT32, new Shape(1, config.inChannels(), r, r), new Shape(1));
    return m;
  }

  @Override
  protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
      PairList<String, Object> params) {
    NDArray labels = inputs.size() > 2 ? inputs.get(2) : null;
    return new NDList(apply(ps, inputs.get(0), inputs.get(1).toType(DataType.FLOAT64, false).toDoubleArray(),
        labels == null ? null : labels.toType(DataType.INT64, false).toLongArray(), training));
  }

  /**
   * The forward pass.
   *
   * @param x {@code [n, C, H, W]} FLOAT32
   * @param t the training timestep of each row (fractional values are embedded as they are)
   * @param labels class labels of a class-conditional network, null otherwise; with a null-label row
   *     ({@link UNet2DConfig#nullClassLabel}) −1 is that row and null labels mean ∅ for every sample
   * @param training true to apply the residual blocks' dropout
   */
  public NDArray apply(ParameterStore ps, NDArray x, double[] t, long[] labels, boolean training) {
    Shape s = x.getShape();
    long n = s.get(0);
    long f = 1L << (config.levels() - 1);
    if (s.dimension() != 4 || s.get(1) != config.inChannels() || s.get(2) % f != 0 || s.get(3) % f != 0
        || t.length != n) {
      throw new IllegalArgumentException("UNet2DModel expects x [n, " + config.inChannels() + ", H, W] with H, W "
          + "multiples of " + f + " and n timesteps, got " + s + " and " + t.length + " timesteps");
    }
    NDManager m = x.getManager();
    int base = config.blockOutChannels()[0];
    NDArray emb = timeEmbedding.apply(ps,
        TimestepEmbedding.sinusoidal(m, t, base, config.flipSinToCos(), config.freqShift()));
    if (config.classConditional()) {
      int nul = config.nullClassLabel();
      if (labels == null && nul >= 0) {
        labels = new long[Math.toIntExact(n)];
        java.util.Arrays.fill(labels, nul);
      }
      if (labels == null || labels.length != n) {
        throw new IllegalArgumentException("this UNet2DModel is class-conditional (" + config.classes()
            + " classes): give one class label per sample");
      }
      if (classWeight != null) {
        int k = config.numClassEmbeds();
        long[] rows = labels;
        for (int i = 0; i < rows.length; i++) {
          long l = rows[i];
          if (l == -1 && nul >= 0) {
            if (rows == labels) {
              rows = labels.clone();
            }
            rows[i] = nul;
          } else if (l < 0 || l >= k) {
            throw new IllegalArgumentException("class label " + l + " outside 0.." + (k - 1) + (nul >= 0
                ? " (−1 or " + nul + " = the null label)" : " (this UNet2DModel has no null label)"));
          }
        }
        NDArray oneHot = m.create(rows).oneHot(k).toType(DataType.FLOAT32, false);
        emb = emb.add(oneHot.matMul(value(ps, classWeight, x)));
      } else {
        double[] lt = new double[labels.length];
        for (int i = 0; i < lt.length; i++) {
          lt[i] = labels[i];
        }
        emb = emb.add(classTimestep.apply(ps,
            TimestepEmbedding.sinusoidal(m, lt, base, config.flipSinToCos(), config.freqShift())));
      }
    } else if (labels != null) {
      throw new IllegalArgumentException("labels given to an unconditional UNet2DModel");
    }
    NDArray h = config.centerInputSample() ? Scalars.mul(x, 2).sub(1) : x;
    h = convIn.apply(ps, h);
    Deque<NDArray> skips = new ArrayDeque<>();
    skips.push(h);
    for (UNetBlocks.Down d : down) {
      h = d.apply(ps, h, emb, skips, training);
    }
    h = mid.apply(ps, h, emb, training);
    for (UNetBlocks.Up u : up) {
      h = u.apply(ps, h, emb, skips, training);
    }
    return convOut.apply(ps, normSilu(normOut, ps, h));
  }
}
