package org.diffusion4j.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * Denoising score matching with an {@link Objective}: draw σ per example from the objective's draw and
 * ε ~ N(0, I), and regress the preconditioned network on {@code λ(σ)‖D(x0 + σε; σ) − x0‖²} (Karras et al.
 * 2022, eq. 2 and 8; Vincent 2011). Every classic objective (DDPM's L_simple, v-prediction, NCSN, EDM,
 * flow matching) is this loss with another {@link Objective}.
 *
 * @param objective weighting and σ-draw (its preconditioning is the trained network's)
 * @param model the trainable network's name
 */
public record DenoisingLoss(Objective objective, String model) implements TrainingLoss {

  /** The loss of the single network of a run. */
  public DenoisingLoss(Objective objective) {
    this(objective, Trainer.MODEL);
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x0 = ctx.batch().x();
    int n = Math.toIntExact(x0.getShape().get(0));
    double[] sigma = objective.draw().draw(n, ctx.rng());
    NDArray eps = ctx.normals(x0);
    long[] b = new long[x0.getShape().dimension()];
    Arrays.fill(b, 1);
    b[0] = n;
    NDArray xHat = x0.add(eps.mul(ctx.manager().create(sigma, new Shape(b)).toType(x0.getDataType(), false)));
    NetworkDenoiser net = ctx.trainable(model);
    NetworkDenoiser.Output out = net.forward(ctx.parameters(), true, xHat, sigma, ctx.conditioning());
    return new Value(objective.perExampleLoss(out, x0, sigma).mean());
  }
}
