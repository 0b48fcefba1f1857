package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.tensor.Scalars;
import org.diffusion4j.train.autodiff.InputGradient;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Score matching through the divergence of the model's score, on noisy data x̂ = x0 + σε (σ from the
 * objective's draw), so that for each σ the minimiser is the score of the perturbed data, ∇log p_σ:
 * explicit (Hyvärinen 2005, eq. 4) with the exact divergence, or sliced (Song, Garg, Shi &amp; Ermon
 * 2019, eq. 6–7) with K Hutchinson probes u (Rademacher or Gaussian, E[uuᵀ] = I):
 * <pre>
 *   J(s) = E[ tr ∇ₓ̂ s(x̂) + ½‖s(x̂)‖² ],      tr ∇s ≈ (1/K) Σ_k u_kᵀ (∇ₓ̂ s) u_k.
 * </pre>
 * The model's score is that of its denoiser, {@code s = (D(x̂; σ) − x̂)/σ²} (Tweedie; Karras et al. 2022
 * eq. 3), so {@code tr ∇s = (tr ∂D/∂x̂ − d)/σ²}. Per example, with the objective's weighting λ(σ) and d the
 * dimension, the loss is
 * <pre>
 *   ℓ = (λ(σ)/d) · [ ‖D − x̂‖² + 2σ²·tr ∂D/∂x̂ − σ²d ]  =  (2λσ⁴/d)·(tr ∇s + ½‖s‖²) + λσ²,
 * </pre>
 * whose expectation equals the denoising loss {@code (λ/d) E‖D − x0‖²} of the same objective (by Stein's
 * identity, E[(D − x̂)ᵀσε] = σ² E[tr ∂(D − x̂)/∂x̂]), so the logged values compare with DSM runs; unlike
 * DSM its per-example value never uses x0 (Vincent 2011 shows the two objectives are equivalent).
 *
 * <p>The divergence terms uᵀ(∂D/∂x̂)u are taken with a differentiable input gradient
 * ({@link InputGradient}) on the rows replicated once per probe — d rows per example for the exact
 * divergence (low dimension only), K for the sliced form — so a training step costs about
 * (1 + probes)× a DSM step of the same batch.
 *
 * @param objective preconditioning, weighting and σ-draw
 * @param model the trainable network's name
 * @param probes 0 for the exact divergence, else K ≥ 1 Hutchinson probes
 * @param gaussianProbes Gaussian instead of Rademacher probes (sliced only)
 */
public record ScoreMatchingLoss(Objective objective, String model, int probes, boolean gaussianProbes)
    implements TrainingLoss {
  /** The largest dimension the exact divergence is taken in (one probe per dimension). */
  public static final int MAX_EXACT_DIM = 64;

  public ScoreMatchingLoss {
    if (probes < 0) {
      throw new IllegalArgumentException("probes must be 0 (exact divergence) or >= 1, got " + probes);
    }
    if (probes == 0 && gaussianProbes) {
      throw new IllegalArgumentException("Gaussian probes are for the sliced form (probes >= 1)");
    }
  }

  /** Explicit (Hyvärinen) score matching with the exact divergence. */
  public static ScoreMatchingLoss explicit(Objective objective) {
    return new ScoreMatchingLoss(objective, Trainer.MODEL, 0, false);
  }

  /** Sliced score matching with K Rademacher probes. */
  public static ScoreMatchingLoss sliced(Objective objective, int probes) {
    if (probes < 1) {
      throw new IllegalArgumentException("sliced score matching needs >= 1 probe, got " + probes);
    }
    return new ScoreMatchingLoss(objective, Trainer.MODEL, probes, false);
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    int d = Math.toIntExact(x0.size() / n);
    if (probes == 0 && d > MAX_EXACT_DIM) {
      throw new IllegalArgumentException("the exact divergence takes one input gradient per dimension; these samples "
          + "have " + d + " > " + MAX_EXACT_DIM + ": use sliced score matching (objective ssm)");
    }
    double[] sigma = objective.draw().draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    int k = probes == 0 ? d : probes;
    NDManager m = ctx.manager();
    float[] u = new float[k * n * d];
    for (int p = 0; p < k; p++) {
      for (int i = 0; i < n; i++) {
        int off = (p * n + i) * d;
        if (probes == 0) {
          u[off + p] = 1;
        } else {
          for (int j = 0; j < d; j++) {
            u[off + j] = gaussianProbes ? (float) ctx.rng().nextGaussian() : ctx.rng().nextBoolean() ? 1f : -1f;
          }
        }
      }
    }
    long[] shape = x0.getShape().getShape().clone();
    shape[0] = (long) k * n;
    NDArray probe = m.create(u, new Shape(shape)).toType(x0.getDataType(), false);
    NDList copies = new NDList();
    for (int p = 0; p < k; p++) {
      copies.add(xHat);
    }
    NDArray xRep = (k == 1 ? xHat.duplicate() : NDArrays.concat(copies, 0)).stopGradient();
    xRep.setRequiresGradient(true);
    double[] sigmaRep = new double[k * n];
    for (int p = 0; p < k; p++) {
      System.arraycopy(sigma, 0, sigmaRep, p * n, n);
    }
    Conditioning c = ctx.conditioning();
    if (c.labels() != null) {
      long[] l = c.labels();
      long[] rep = new long[k * n];
      for (int p = 0; p < k; p++) {
        System.arraycopy(l, 0, rep, p * n, n);
      }
      c = c.withLabels(rep);
    }
    NetworkDenoiser net = ctx.trainable(model);
    NDArray den = net.forward(ctx.parameters(), true, xRep, sigmaRep, c).denoised().toType(x0.getDataType(), false);
    NDArray g = InputGradient.vjp(den, xRep, probe);
    // uᵀ(∂D/∂x̂)u per row, then per example: the sum over unit vectors, or the mean over random probes.
    NDArray quad = g.mul(probe).reshape(k, n, d).sum(new int[] {2});
    NDArray trace = probes == 0 ? quad.sum(new int[] {0}) : quad.mean(new int[] {0});
    NDArray first = den.get("0:" + n).sub(xRep.get("0:" + n)).reshape(n, d);
    NDArray sq = first.square().sum(new int[] {1});
    double[] s2 = new double[n];
    double[] w = new double[n];
    double[] offset = new double[n];
    for (int i = 0; i < n; i++) {
      s2[i] = sigma[i] * sigma[i];
      w[i] = objective.weighting().applyAsDouble(sigma[i]) / d;
      offset[i] = s2[i] * d;
    }
    DataType t = x0.getDataType();
    NDArray s2a = m.create(s2).toType(t, false);
    NDArray per = sq.add(Scalars.mul(trace.mul(s2a), 2)).sub(m.create(offset).toType(t, false))
        .mul(m.create(w).toType(t, false));
    Map<String, Double> metrics = new LinkedHashMap<>();
    double[] tr = trace.toType(DataType.FLOAT64, false).toDoubleArray();
    metrics.put("div_d", Arrays.stream(tr).average().orElse(Double.NaN) / d);
    return new Value(per.mean(), metrics);
  }
}
