package org.diffusion4j.train.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loop.TrainingLoss;

/**
 * A Bradley–Terry reward model (Bradley &amp; Terry 1952; Ouyang et al. 2022, eq. 1): a scalar reward r(x)
 * trained on preference pairs with {@code −log σ(r(x_w) − r(x_l))}. The reward is the mean of a raw
 * network's output, {@code r(x) = mean F(x, 0)} (any of the project's networks: an MLP for points, a
 * U-Net for images). The batch holds the n preferred samples, then the n rejected ones.
 *
 * @param model the reward network's name
 */
public record BradleyTerryLoss(String model) implements TrainingLoss {

  /** The run's single network. */
  public BradleyTerryLoss() {
    this(Trainer.MODEL);
  }

  /** r(x) per row of {@code x}, differentiable when {@code ps} is a training store inside a collector. */
  public static NDArray reward(Block network, ParameterStore ps, NDArray x, boolean training) {
    long n = x.getShape().get(0);
    NDArray f = network.forward(ps, new NDList(x.toType(DataType.FLOAT32, false),
        x.getManager().zeros(new Shape(n), DataType.FLOAT32)), training).singletonOrThrow();
    return f.reshape(n, -1).mean(new int[] {1});
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray x = ctx.batch().x();
    int n = Math.toIntExact(x.getShape().get(0) / 2);
    NDArray r = reward(ctx.trainable(model).network(), ctx.parameters(), x, true);
    NDArray diff = r.get("0:" + n).sub(r.get(n + ":"));
    NDArray loss = Activation.softPlus(diff.neg()).mean();
    double accuracy = diff.gt(0).toType(DataType.FLOAT32, false).mean().getFloat();
    return new Value(loss, Map.of("accuracy", accuracy));
  }
}
