package org.diffusion4j.train.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.Arrays;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Diffusion-DPO (Wallace et al. 2024, "Diffusion Model Alignment Using Direct Preference Optimization",
 * eq. 14), in the frame's terms: for a pair (x_w preferred, x_l rejected) noised with the same σ and the
 * same ε,
 * {@code L = −log σ(−β [(ℓ_θ(x_w) − ℓ_ref(x_w)) − (ℓ_θ(x_l) − ℓ_ref(x_l))])}, where ℓ is the objective's
 * weighted denoising loss {@code λ(σ)‖D(x̂; σ) − x0‖²} (the paper's {@code w(t)‖ε − ε_θ‖²}; its factor T is
 * folded into β). The reference network is frozen; at θ = ref the loss is log 2.
 *
 * <p>The batch holds 2n rows, the n preferred samples first and then the n rejected ones
 * ({@link PreferencePairs#batches}). {@code linear} selects the first-order surrogate
 * {@code β·[ΔW − ΔL]} that a Taylor expansion of the logistic loss gives — unbounded below, so only for
 * comparison; the logistic form is the published loss.
 *
 * @param objective weighting λ(σ) and σ-draw (the trained model's own objective)
 * @param beta β &gt; 0: larger keeps closer to the reference
 * @param linear the linear surrogate instead of the logistic loss
 * @param model the trained network's name
 * @param reference the frozen reference's name
 */
public record DiffusionDpoLoss(Objective objective, double beta, boolean linear, String model, String reference)
    implements TrainingLoss {

  /** The frozen reference network's name in a single-model alignment run. */
  public static final String REFERENCE = "reference";

  public DiffusionDpoLoss {
    if (!(beta > 0) || Double.isInfinite(beta)) {
      throw new IllegalArgumentException("--beta must be a finite number > 0, got " + beta);
    }
  }

  /** The logistic loss on the run's model against the frozen reference. */
  public DiffusionDpoLoss(Objective objective, double beta) {
    this(objective, beta, false, Trainer.MODEL, REFERENCE);
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int rows = Math.toIntExact(x0.getShape().get(0));
    if (rows % 2 != 0) {
      throw new IllegalArgumentException("a preference batch has 2n rows (preferred, then rejected), got " + rows);
    }
    int n = rows / 2;
    // One σ and one ε per pair, shared by its two samples.
    double[] half = objective.draw().draw(n, ctx.rng());
    double[] sigma = new double[rows];
    System.arraycopy(half, 0, sigma, 0, n);
    System.arraycopy(half, 0, sigma, n, n);
    NDArray epsHalf = ctx.normals(x0.get("0:" + n));
    NDArray eps = epsHalf.concat(epsHalf, 0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    Conditioning c = ctx.conditioning();
    NetworkDenoiser net = ctx.trainable(model);
    NDArray lTheta = objective.perExampleLoss(net.forward(ctx.parameters(), true, xHat, sigma, c), x0, sigma);
    NDArray dRef = ctx.frozen(reference).denoise(xHat, sigma, c).stopGradient();
    NDArray lRef = weightedError(dRef, x0, sigma);
    NDArray delta = lTheta.sub(lRef);
    NDArray margin = delta.get("0:" + n).sub(delta.get(n + ":"));
    NDArray z = Scalars.mul(margin, -beta);
    NDArray loss = linear ? Scalars.mul(margin, beta).mean() : Activation.softPlus(z.neg()).mean();
    double accuracy = z.gt(0).toType(DataType.FLOAT32, false).mean().getFloat();
    return new Value(loss, Map.of("implicit_accuracy", accuracy, "margin", (double) margin.mean().getFloat()));
  }

  /** {@code λ(σ)·mean‖D − x0‖²} per example. */
  NDArray weightedError(NDArray d, NDArray x0, double[] sigma) {
    int rank = x0.getShape().dimension();
    NDArray se = d.toType(x0.getDataType(), false).sub(x0).square();
    NDArray mse = rank == 1 ? se : se.reshape(sigma.length, -1).mean(new int[] {1});
    double[] w = new double[sigma.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = objective.weighting().applyAsDouble(sigma[i]);
    }
    return mse.mul(x0.getManager().create(w).toType(x0.getDataType(), false));
  }
}
