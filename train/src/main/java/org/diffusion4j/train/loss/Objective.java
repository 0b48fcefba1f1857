package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;
import org.diffusion4j.denoiser.Preconditioning;
import org.diffusion4j.denoiser.Scalings;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.process.RectifiedFlow;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A training objective as the frame sees it): a preconditioning that turns the
 * raw network F into a denoiser, a weighting λ(σ), and a draw of σ. The loss is
 * {@code E[λ(σ) ‖D(x0 + σε; σ) − x0‖²]}, computed in the numerically safe effective-target form
 * {@code λ c_out² ‖F(c_in x̂; c_noise) − (x0 − c_skip x̂)/c_out‖²}).
 *
 * <p>Every classic loss is one of these triples; {@link #of} gives each its published weighting so
 * that the loss equals the paper's: ε (L_simple: λ = 1/σ² makes it ‖ε̂ − ε‖²), x0 (λ = 1), v (λ =
 * (σ²+1)/σ² = ‖v̂ − v‖² on VP), score (DSM with λ(t) = σ_t²), EDM, VP and VE legacy, and flow matching
 * (λ = ((1+σ)/σ)² = ‖û − (ε − x0)‖²).
 *
 * @param id objective identifier
 * @param preconditioning c_skip, c_out, c_in, c_noise
 * @param weighting λ(σ)
 * @param draw p_train(σ)
 */
public record Objective(String id, Preconditioning preconditioning, DoubleUnaryOperator weighting,
    SigmaDraw draw) {

  /** Every identifier {@link #of} accepts. */
  public static final List<String> IDS = List.of("eps", "x0", "v", "score", "edm", "vp", "ve", "flow", "cfm", "ot-cfm",
      "sb-cfm", "fm", "ct", "cd", "mf", "sct", "scd", "ctm", "dmd", "ism", "ssm");

  /**
   * The objective {@code id} with its paper defaults; {@code process} decides the σ-draw of the
   * time-based objectives (eps on {@code ddpm} draws integer timesteps), {@code sigmaData} σ_data.
   */
  public static Objective of(String id, NoiseProcess process, double sigmaData) {
    switch (id.toLowerCase(Locale.ROOT)) {
      case "eps":
        return new Objective("eps", new Preconditioning.Vp(process, 1000), s -> 1 / (s * s), timeDraw(process));
      case "x0":
        return new Objective("x0", new Preconditioning.X0(sigmaData), s -> 1, timeDraw(process));
      case "v":
        return new Objective("v", new Preconditioning.Edm(1.0), s -> (s * s + 1) / (s * s), timeDraw(process));
      case "score":
      case "ve":
        return new Objective(id.toLowerCase(Locale.ROOT), new Preconditioning.Ve(), s -> 1 / (s * s),
            new SigmaDraw.LogUniform(0.02, 100));
      case "edm":
        return new Objective("edm", new Preconditioning.Edm(sigmaData),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.2, 1.2));
      case "vp":
        return new Objective("vp", new Preconditioning.Vp(process, 1000), s -> 1 / (s * s),
            process instanceof VpLinear ? new SigmaDraw.UniformTime(process, 1e-5, 1) : timeDraw(process));
      case "ct":
      case "cd":
        // Consistency models (Song et al. 2023): the boundary-condition preconditioning; their loss is
        // org.diffusion4j.train.distill.ConsistencyLoss, the weighting and draw here are EDM's.
        return new Objective(id.toLowerCase(Locale.ROOT), new Preconditioning.Consistency(sigmaData,
            Preconditioning.Consistency.DEFAULT_SIGMA_MIN),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.2, 1.2));
      case "sct":
        // Continuous-time consistency training (Lu & Song 2024): TrigFlow; the loss is
        // org.diffusion4j.train.distill.ContinuousConsistencyLoss, the weighting and draw here are EDM's.
        return new Objective("sct", new Preconditioning.TrigFlow(sigmaData),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.0, 1.4));
      case "scd":
      case "ctm":
        // sCD students (EDM is TrigFlow with F negated, so an EDM teacher initialises them) and two-time CTM
        // models (Kim et al. 2024) keep EDM's preconditioning; their losses are in org.diffusion4j.train.distill.
        return new Objective(id.toLowerCase(Locale.ROOT), new Preconditioning.Edm(sigmaData),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.2, 1.2));
      case "dmd":
        // A one-step DMD generator (Yin et al. 2024) evaluated at σ_max, consistency-preconditioned like cd.
        return new Objective("dmd", new Preconditioning.Consistency(sigmaData,
            Preconditioning.Consistency.DEFAULT_SIGMA_MIN),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.2, 1.2));
      case "ism":
      case "ssm":
        // Score matching through the divergence (Hyvärinen 2005; Song et al. 2019): EDM's preconditioning,
        // weighting and draw; the loss is ScoreMatchingLoss (exact divergence for ism, one Hutchinson probe for ssm).
        return new Objective(id.toLowerCase(Locale.ROOT), new Preconditioning.Edm(sigmaData),
            s -> (s * s + sigmaData * sigmaData) / (s * sigmaData * s * sigmaData), new SigmaDraw.LogNormal(-1.2, 1.2));
      case "mf":
        // Mean Flows (Geng et al. 2025): a two-time velocity network on the rectified-flow path; its loss is
        // org.diffusion4j.train.distill.MeanFlowLoss, the weighting and draw here are flow matching's.
        return new Objective("mf", new Preconditioning.Flow(), s -> Math.pow((1 + s) / s, 2),
            new SigmaDraw.LogitNormal(0, 1));
      case "cfm":
      case "ot-cfm":
      case "sb-cfm":
      case "fm":
        // Flow matching on pairs (org.diffusion4j.train.transport.FlowMatchingLoss): a velocity network
        // preconditioned as the rectified flow; weighting and draw are those of "flow".
      case "flow":
        return new Objective(id.toLowerCase(Locale.ROOT), new Preconditioning.Flow(), s -> Math.pow((1 + s) / s, 2),
            new SigmaDraw.LogitNormal(0, 1));
      default:
        throw new IllegalArgumentException(
            "unknown objective '" + id + "'; accepted: " + String.join(", ", IDS));
    }
  }

  private static SigmaDraw timeDraw(NoiseProcess p) {
    if (p instanceof DiscreteDdpm d) {
      return new SigmaDraw.UniformTimestep(d);
    }
    if (p instanceof RectifiedFlow) {
      return new SigmaDraw.LogitNormal(0, 1);
    }
    return new SigmaDraw.UniformTime(p, p.tMin(), p.tMax());
  }

  /** A raw network F(c_in x̂, c_noise) with c_noise shaped [n] (hand-made F's in tests). */
  @FunctionalInterface
  public interface Network {
    NDArray forward(NDArray input, NDArray cNoise);
  }

  /** {@code λ(σ)·c_out(σ)²} per sample: the weight of ‖F − target‖² that makes it λ‖D − x0‖². */
  public double[] effectiveWeights(double[] sigma) {
    double[] w = new double[sigma.length];
    for (int i = 0; i < sigma.length; i++) {
      double cOut = preconditioning.scalings(sigma[i]).cOut();
      w[i] = weighting.applyAsDouble(sigma[i]) * cOut * cOut;
    }
    return w;
  }

  /**
   * The per-example loss of a preconditioned forward, {@code λ c_out² mean‖F − (x0 − c_skip x̂)/c_out‖²}
   * (mean over the example's elements), shape [n]; equal to {@code λ mean‖D − x0‖²}.
   *
   * @param out the forward at x̂ = x0 + σ ε (from {@link NetworkDenoiser#forward} or
   *     {@link NetworkDenoiser#precondition})
   * @param x0 the clean data
   * @param sigma σ per example, each &gt; 0
   */
  public NDArray perExampleLoss(NetworkDenoiser.Output out, NDArray x0, double[] sigma) {
    NDManager m = x0.getManager();
    int rank = x0.getShape().dimension();
    NDArray target = out.effectiveTarget(x0);
    NDArray se = out.f().toType(x0.getDataType(), false).sub(target).square();
    // Mean over each example's elements (DJL's PyTorch engine reduces over one axis at a time).
    NDArray mse = rank == 1 ? se : se.reshape(sigma.length, -1).mean(new int[] {1});
    return mse.mul(m.create(effectiveWeights(sigma)).toType(x0.getDataType(), false));
  }

  /**
   * The per-example loss of a hand-made raw network F at {@code x̂ = x0 + σ ε}, through the same
   * preconditioned forward as training and sampling.
   */
  public NDArray perExampleLoss(NDArray x0, double[] sigma, NDArray eps, Network f) {
    NDManager m = x0.getManager();
    int rank = x0.getShape().dimension();
    long[] b = new long[rank];
    java.util.Arrays.fill(b, 1);
    b[0] = sigma.length;
    NDArray xHat = x0.add(eps.mul(m.create(sigma, new Shape(b)).toType(x0.getDataType(), false)));
    NetworkDenoiser.Output out = NetworkDenoiser.precondition(preconditioning, xHat, sigma,
        org.diffusion4j.denoiser.Conditioning.NONE, (in, cNoise, labels) -> f.forward(in, cNoise));
    return perExampleLoss(out, x0, sigma);
  }
}
