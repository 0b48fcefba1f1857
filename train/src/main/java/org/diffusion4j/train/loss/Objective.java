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

/**
 * A training objective as the frame sees it (SPEC OBJ-08, PAR-04/06): a preconditioning that turns the
 * raw network F into a denoiser, a weighting λ(σ), and a draw of σ. The loss is
 * {@code E[λ(σ) ‖D(x0 + σε; σ) − x0‖²]}, computed in the numerically safe effective-target form
 * {@code λ c_out² ‖F(c_in x̂; c_noise) − (x0 − c_skip x̂)/c_out‖²} (003; ERR-33 corrected).
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
  public static final List<String> IDS = List.of("eps", "x0", "v", "score", "edm", "vp", "ve", "flow");

  /**
   * The objective {@code id} with its paper defaults; {@code process} decides the σ-draw of the
   * time-based objectives (eps on {@code ddpm} draws integer timesteps), {@code sigmaData} σ_data.
   */
  public static Objective of(String id, NoiseProcess process, double sigmaData) {
    switch (id.toLowerCase(Locale.ROOT)) {
      case "eps":
        return new Objective("eps", new Preconditioning.Vp(0.1, 20, 1000), s -> 1 / (s * s), timeDraw(process));
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
        return new Objective("vp", new Preconditioning.Vp(0.1, 20, 1000), s -> 1 / (s * s),
            new SigmaDraw.UniformTime(VpLinear.DEFAULT, 1e-5, 1));
      case "flow":
        return new Objective("flow", new Preconditioning.Flow(), s -> Math.pow((1 + s) / s, 2),
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

  /** The raw network: F(c_in x̂, c_noise) with c_noise shaped [n]. */
  @FunctionalInterface
  public interface Network {
    NDArray forward(NDArray input, NDArray cNoise);
  }

  /** Per-example coefficients for a batch of σ's, broadcastable against x of {@code rank} dims. */
  public record BatchScalings(NDArray cSkip, NDArray cOut, NDArray cIn, NDArray cNoise, NDArray weight) {}

  /** c_skip, c_out, c_in shaped [n, 1, …] for broadcasting, c_noise [n], and λ c_out² [n]. */
  public BatchScalings batchScalings(NDManager m, double[] sigma, int rank, DataType dtype) {
    int n = sigma.length;
    double[] skip = new double[n];
    double[] out = new double[n];
    double[] in = new double[n];
    double[] noise = new double[n];
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      Scalings s = preconditioning.scalings(sigma[i]);
      skip[i] = s.cSkip();
      out[i] = s.cOut();
      in[i] = s.cIn();
      noise[i] = s.cNoise();
      w[i] = weighting.applyAsDouble(sigma[i]) * s.cOut() * s.cOut();
    }
    Shape b = broadcastShape(n, rank);
    return new BatchScalings(m.create(skip, b).toType(dtype, false), m.create(out, b).toType(dtype, false),
        m.create(in, b).toType(dtype, false), m.create(noise, new Shape(n)).toType(dtype, false),
        m.create(w, new Shape(n)).toType(dtype, false));
  }

  private static Shape broadcastShape(int n, int rank) {
    long[] bshape = new long[rank];
    java.util.Arrays.fill(bshape, 1);
    bshape[0] = n;
    return new Shape(bshape);
  }

  /**
   * The per-example loss {@code λ c_out² mean‖F − target‖²} (mean over the example's elements), shape
   * [n]: x0 clean data, sigma per example, eps standard normal of x0's shape.
   */
  public NDArray perExampleLoss(NDArray x0, double[] sigma, NDArray eps, Network f) {
    NDManager m = x0.getManager();
    int rank = x0.getShape().dimension();
    BatchScalings c = batchScalings(m, sigma, rank, x0.getDataType());
    NDArray sigmaB = m.create(sigma, broadcastShape(sigma.length, rank)).toType(x0.getDataType(), false);
    NDArray xHat = x0.add(eps.mul(sigmaB));
    NDArray out = f.forward(xHat.mul(c.cIn()), c.cNoise());
    NDArray target = x0.sub(xHat.mul(c.cSkip())).div(c.cOut());
    NDArray se = out.sub(target).square();
    // Mean over each example's elements (DJL's PyTorch engine reduces over one axis at a time).
    NDArray mse = rank == 1 ? se : se.reshape(sigma.length, -1).mean(new int[] {1});
    return mse.mul(c.weight());
  }
}
