package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Map;
import org.diffusion4j.train.guidance.NetworkClassifier;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Training of a noise-conditional classifier for classifier guidance (Song et al. 2021, §5; Dhariwal
 * &amp; Nichol 2021, §4): cross-entropy {@code −log p_ψ(y | x0 + σε, σ)} on noisy data, σ per example from
 * a draw that covers the sampler's noise levels and ε ~ N(0, I), both from the step's generator. The
 * trained network (its block, read through {@link NetworkDenoiser#network()} with its
 * preconditioning's input scalings) becomes a {@link NetworkClassifier}. Metric: the batch accuracy.
 *
 * @param draw the noise levels trained on
 * @param model the trainable network's name
 */
public record ClassifierLoss(SigmaDraw draw, String model) implements TrainingLoss {

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    if (ctx.batch().labels() == null) {
      throw new IllegalArgumentException("classifier training needs labelled data");
    }
    long[] labels = ctx.batch().labels().toLongArray();
    int n = labels.length;
    double[] sigma = draw.draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    NDArray xHat = ctx.noisy(x0, sigma, eps);
    NetworkDenoiser net = ctx.trainable(model);
    NDArray logits = NetworkClassifier.logits(net.network(), net.preconditioning(), ctx.parameters(), true, xHat, sigma);
    long k = logits.getShape().get(1);
    for (int i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= k) {
        throw new IllegalArgumentException("label " + labels[i] + " of example " + i + " is not a class of the "
            + k + "-way classifier");
      }
    }
    NDArray loss = NetworkClassifier.logProbOf(logits, labels).mean().neg();
    long[] predicted = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
    int right = 0;
    for (int i = 0; i < n; i++) {
      right += predicted[i] == labels[i] ? 1 : 0;
    }
    return new Value(loss, Map.of("accuracy", (double) right / n));
  }
}
