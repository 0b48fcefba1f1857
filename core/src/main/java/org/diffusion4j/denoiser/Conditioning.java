package org.diffusion4j.denoiser;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a model is told about each sample besides its state and noise level: class labels, a guidance
 * scale for guidance-conditioned models, a mask with known values (inpainting), and a second noise
 * level for two-time models such as flow maps G(x, σ → σ′) (Kim et al. 2024, Consistency Trajectory
 * Models; Geng et al. 2025, Mean Flows). EDM passes {@code net(x, sigma, class_labels)}, k-diffusion
 * {@code model(x, sigma, **extra_args)}; this is the typed form of the same idea.
 *
 * <p>A value, held on the host, with one row per sample: it is sliced together with the batch
 * ({@link #slice}) exactly like a {@code SeededNoise}, so the labels of sample k reach the network for
 * sample k whatever the batch size, and every {@link Denoiser} wrapper passes it through. Each part is
 * optional (null); {@link #NONE} has none and fits any batch. Label {@link #NULL_LABEL} is the
 * unconditional ("null") class of classifier-free guidance (Ho &amp; Salimans 2022).
 *
 * @param labels class labels per sample ({@link #NULL_LABEL} for ∅), or null
 * @param guidance a guidance scale per sample (models trained with the scale as input, e.g. guided
 *     distillation of Meng et al. 2023), or null
 * @param mask inpainting mask and known values, or null
 * @param sigmaTarget a second noise level per sample (the target level of a flow map), or null
 */
public record Conditioning(long[] labels, double[] guidance, Mask mask, double[] sigmaTarget) {

  /** The unconditional class ∅. */
  public static final long NULL_LABEL = -1;

  /** No conditioning: fits any batch. */
  public static final Conditioning NONE = new Conditioning(null, null, null, null);

  /**
   * Known values for inpainting: per sample, {@code mask[i] = 1} where {@code known[i]} is given and 0
   * where the model must generate; both arrays hold n samples of {@code perSample} values, row-major.
   *
   * @param mask 0/1 (or soft) weights, n·perSample
   * @param known the known values in data scale, n·perSample
   * @param perSample values per sample (the product of the sample shape)
   */
  public record Mask(double[] mask, double[] known, int perSample) {
    public Mask {
      Objects.requireNonNull(mask, "mask");
      Objects.requireNonNull(known, "known");
      if (perSample < 1) {
        throw new IllegalArgumentException("mask: values per sample must be >= 1, got " + perSample);
      }
      if (mask.length != known.length || mask.length % perSample != 0) {
        throw new IllegalArgumentException("mask: mask (" + mask.length + " values) and known (" + known.length
            + " values) must both hold whole samples of " + perSample + " values");
      }
      mask = mask.clone();
      known = known.clone();
      for (int i = 0; i < mask.length; i++) {
        if (!(mask[i] >= 0 && mask[i] <= 1)) {
          throw new IllegalArgumentException("mask value " + mask[i] + " at index " + i + " is outside [0, 1]");
        }
      }
    }

    /** Number of samples. */
    public int size() {
      return mask.length / perSample;
    }

    @Override
    public double[] mask() {
      return mask.clone();
    }

    @Override
    public double[] known() {
      return known.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Mask k && perSample == k.perSample && Arrays.equals(mask, k.mask)
          && Arrays.equals(known, k.known);
    }

    @Override
    public int hashCode() {
      return Objects.hash(perSample, Arrays.hashCode(mask), Arrays.hashCode(known));
    }

    Mask slice(int from, int to) {
      return new Mask(Arrays.copyOfRange(mask, from * perSample, to * perSample),
          Arrays.copyOfRange(known, from * perSample, to * perSample), perSample);
    }

    static Mask concat(Mask a, Mask b) {
      if (a.perSample != b.perSample) {
        throw new IllegalArgumentException("cannot join masks of " + a.perSample + " and " + b.perSample
            + " values per sample");
      }
      return new Mask(join(a.mask, b.mask), join(a.known, b.known), a.perSample);
    }
  }

  public Conditioning {
    int n = -1;
    n = agree(n, labels == null ? -1 : labels.length, "labels");
    n = agree(n, guidance == null ? -1 : guidance.length, "guidance");
    n = agree(n, mask == null ? -1 : mask.size(), "mask");
    agree(n, sigmaTarget == null ? -1 : sigmaTarget.length, "sigmaTarget");
    if (labels != null) {
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] < NULL_LABEL) {
          throw new IllegalArgumentException("class label " + labels[i] + " of sample " + i
              + " is negative; labels are 0, 1, … or " + NULL_LABEL + " for the null class");
        }
      }
    }
    if (sigmaTarget != null) {
      for (int i = 0; i < sigmaTarget.length; i++) {
        if (!(sigmaTarget[i] >= 0) || Double.isInfinite(sigmaTarget[i])) {
          throw new IllegalArgumentException("target σ " + sigmaTarget[i] + " of sample " + i
              + " must be finite and >= 0");
        }
      }
    }
    labels = labels == null ? null : labels.clone();
    guidance = guidance == null ? null : guidance.clone();
    sigmaTarget = sigmaTarget == null ? null : sigmaTarget.clone();
  }

  private static int agree(int n, int m, String what) {
    if (m < 0) {
      return n;
    }
    if (n >= 0 && n != m) {
      throw new IllegalArgumentException("conditioning parts disagree on the batch size: " + what + " has " + m
          + " samples, an earlier part " + n);
    }
    return m;
  }

  /** Class labels only. */
  public static Conditioning ofLabels(long... labels) {
    return new Conditioning(labels, null, null, null);
  }

  /** The same class label for {@code n} samples. */
  public static Conditioning label(long label, int n) {
    long[] l = new long[n];
    Arrays.fill(l, label);
    return ofLabels(l);
  }

  /** This conditioning with {@code labels} replaced. */
  public Conditioning withLabels(long[] labels) {
    return new Conditioning(labels, guidance, mask, sigmaTarget);
  }

  /** This conditioning with a guidance scale per sample. */
  public Conditioning withGuidance(double[] guidance) {
    return new Conditioning(labels, guidance, mask, sigmaTarget);
  }

  /** This conditioning with an inpainting mask. */
  public Conditioning withMask(Mask mask) {
    return new Conditioning(labels, guidance, mask, sigmaTarget);
  }

  /** This conditioning with a second (target) noise level per sample. */
  public Conditioning withSigmaTarget(double[] sigmaTarget) {
    return new Conditioning(labels, guidance, mask, sigmaTarget);
  }

  /** Whether no part is set. */
  public boolean isEmpty() {
    return labels == null && guidance == null && mask == null && sigmaTarget == null;
  }

  /** The number of samples it describes, or −1 when empty (it then fits any batch). */
  public int size() {
    if (labels != null) {
      return labels.length;
    }
    if (guidance != null) {
      return guidance.length;
    }
    if (mask != null) {
      return mask.size();
    }
    return sigmaTarget != null ? sigmaTarget.length : -1;
  }

  /** Checks that it fits a batch of {@code n} samples. */
  public Conditioning requireSize(long n) {
    int s = size();
    if (s >= 0 && s != n) {
      throw new IllegalArgumentException("conditioning describes " + s + " samples but the batch has " + n);
    }
    return this;
  }

  /** The rows {@code from..to-1}, for batching. */
  public Conditioning slice(int from, int to) {
    if (isEmpty()) {
      return this;
    }
    int n = size();
    if (from < 0 || to > n || from > to) {
      throw new IllegalArgumentException("slice [" + from + ", " + to + ") outside a conditioning of " + n + " samples");
    }
    return new Conditioning(labels == null ? null : Arrays.copyOfRange(labels, from, to),
        guidance == null ? null : Arrays.copyOfRange(guidance, from, to), mask == null ? null : mask.slice(from, to),
        sigmaTarget == null ? null : Arrays.copyOfRange(sigmaTarget, from, to));
  }

  /**
   * These rows {@code k} times over, block after block ({@code [c; c; …]}): the conditioning of a batch
   * that stacks k states of each sample, as a sampler that evaluates several grid points in one call does
   * (Shih et al. 2023).
   */
  public Conditioning repeat(int k) {
    if (k < 1) {
      throw new IllegalArgumentException("a conditioning is repeated at least once, got " + k);
    }
    if (isEmpty() || k == 1) {
      return this;
    }
    Conditioning out = this;
    for (int i = 1; i < k; i++) {
      out = concat(out, this);
    }
    return out;
  }

  /**
   * The rows of {@code a} followed by those of {@code b} (a batched classifier-free guidance call runs
   * the conditional and the unconditional half in one forward). Both must set the same parts; an empty
   * side stands for "nothing set" only when the other is empty too.
   */
  public static Conditioning concat(Conditioning a, Conditioning b) {
    if (a.isEmpty() && b.isEmpty()) {
      return NONE;
    }
    if ((a.labels == null) != (b.labels == null) || (a.guidance == null) != (b.guidance == null)
        || (a.mask == null) != (b.mask == null) || (a.sigmaTarget == null) != (b.sigmaTarget == null)) {
      throw new IllegalArgumentException("cannot join conditionings that set different parts");
    }
    return new Conditioning(a.labels == null ? null : join(a.labels, b.labels),
        a.guidance == null ? null : join(a.guidance, b.guidance),
        a.mask == null ? null : Mask.concat(a.mask, b.mask),
        a.sigmaTarget == null ? null : join(a.sigmaTarget, b.sigmaTarget));
  }

  private static long[] join(long[] a, long[] b) {
    long[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  private static double[] join(double[] a, double[] b) {
    double[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Override
  public long[] labels() {
    return labels == null ? null : labels.clone();
  }

  @Override
  public double[] guidance() {
    return guidance == null ? null : guidance.clone();
  }

  @Override
  public double[] sigmaTarget() {
    return sigmaTarget == null ? null : sigmaTarget.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Conditioning c && Arrays.equals(labels, c.labels) && Arrays.equals(guidance, c.guidance)
        && Objects.equals(mask, c.mask) && Arrays.equals(sigmaTarget, c.sigmaTarget);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Arrays.hashCode(labels), Arrays.hashCode(guidance), mask, Arrays.hashCode(sigmaTarget));
  }

  @Override
  public String toString() {
    return isEmpty() ? "Conditioning.NONE" : "Conditioning[" + size() + " samples"
        + (labels != null ? ", labels" : "") + (guidance != null ? ", guidance" : "")
        + (mask != null ? ", mask" : "") + (sigmaTarget != null ? ", sigmaTarget" : "") + "]";
  }
}
