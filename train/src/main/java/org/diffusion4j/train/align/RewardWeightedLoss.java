package org.diffusion4j.train.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
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
 * Reward-weighted fine-tuning with a KL penalty to the reference: the KL-regularised objective
 * {@code max E_p[r(x)] − β·KL(p ‖ p_ref)} has the solution {@code p* ∝ p_ref·exp(r/β)}, which reward-weighted
 * regression fits by weighting the denoising loss of samples from p_ref by {@code exp(r/β)} (Peng et al.
 * 2019; Lee et al. 2023, "Aligning Text-to-Image Models using Human Feedback"). The weights are
 * self-normalised over the batch ({@code n·softmax(r/β)}), the importance-sampling estimator that needs no
 * partition function. The extra term {@code α·E[λ(σ)‖D_θ − D_ref‖²]} estimates the KL between the two
 * models' path measures up to its weighting (Song et al. 2021, "Maximum Likelihood Training of
 * Score-Based Diffusion Models", Theorem 1: the KL is a λ-weighted integral of the squared difference of
 * their scores, here of their denoisers) on the same noisy samples; it keeps the model near the reference
 * where the reward says nothing.
 *
 * @param objective weighting λ(σ) and σ-draw
 * @param scorer the reward r(x) (a synthetic scorer or a trained reward model)
 * @param beta temperature β &gt; 0 of the weights
 * @param alpha weight α ≥ 0 of the KL term
 * @param model the trained network's name
 * @param reference the frozen reference's name
 */
public record RewardWeightedLoss(Objective objective, Scorer scorer, double beta, double alpha, String model,
    String reference) implements TrainingLoss {

  public RewardWeightedLoss {
    if (!(beta > 0) || Double.isInfinite(beta)) {
      throw new IllegalArgumentException("--beta must be a finite number > 0, got " + beta);
    }
    if (!(alpha >= 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException("--kl must be a finite number >= 0, got " + alpha);
    }
  }

  /** On the run's model against the frozen reference. */
  public RewardWeightedLoss(Objective objective, Scorer scorer, double beta, double alpha) {
    this(objective, scorer, beta, alpha, Trainer.MODEL, DiffusionDpoLoss.REFERENCE);
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    int d = Math.toIntExact(x0.size() / n);
    double[] r = scorer.score(x0.toType(DataType.FLOAT64, false).toDoubleArray(), d);
    double max = Arrays.stream(r).max().orElse(0);
    double[] w = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      w[i] = Math.exp((r[i] - max) / beta);
      sum += w[i];
    }
    for (int i = 0; i < n; i++) {
      w[i] *= n / sum;
    }
    double[] sigma = objective.draw().draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    Conditioning c = ctx.conditioning();
    NetworkDenoiser net = ctx.trainable(model);
    NetworkDenoiser.Output out = net.forward(ctx.parameters(), true, xHat, sigma, c);
    NDArray weighted = objective.perExampleLoss(out, x0, sigma)
        .mul(ctx.manager().create(w).toType(x0.getDataType(), false)).mean();
    NDArray loss = weighted;
    double kl = 0;
    if (alpha > 0) {
      NDArray dRef = ctx.frozen(reference).denoise(xHat, sigma, c).stopGradient();
      NDArray klTerm = new DiffusionDpoLoss(objective, 1, false, model, reference).weightedError(out.denoised(), dRef,
          sigma).mean();
      kl = klTerm.getFloat();
      loss = weighted.add(Scalars.mul(klTerm, alpha));
    }
    double ess = (double) n * n / Arrays.stream(w).map(v -> v * v).sum();
    return new Value(loss, Map.of("kl", kl, "mean_reward", Arrays.stream(r).average().orElse(0),
        "effective_samples", ess));
  }
}
