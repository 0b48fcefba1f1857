package org.diffusion4j.train.autodiff;

import ai.djl.ndarray.NDArray;

/**
 * Vector–Jacobian products with respect to a network's input that stay differentiable:
 * {@code g = (∂y/∂x)ᵀu} with its own graph, so a loss built from g (a divergence
 * {@code uᵀ(∂y/∂x)u}) back-propagates into the parameters y depends on — what score matching needs
 * (Hyvärinen 2005; Song, Garg, Shi &amp; Ermon 2019). Unlike {@code GradientCollector.backward} it
 * writes no {@code .grad} and can be called inside the trainer's open collector; it runs
 * {@code torch.autograd.grad(create_graph=True)} through a TorchScript module (see {@link Jvp} for why).
 */
public final class InputGradient {
  private InputGradient() {}

  /** Whether the engine can take differentiable input gradients (PyTorch). */
  public static boolean available() {
    return TorchAutograd.available();
  }

  /**
   * {@code (∂y/∂x)ᵀu}, shaped like x, differentiable.
   *
   * @param y computed from x with grad mode on (inside a {@code GradientCollector})
   * @param x an input that requires a gradient ({@code x.setRequiresGradient(true)} before computing y)
   * @param u a cotangent of y's shape
   */
  public static NDArray vjp(NDArray y, NDArray x, NDArray u) {
    if (!y.getShape().equals(u.getShape())) {
      throw new IllegalArgumentException("the cotangent u must have y's shape " + y.getShape() + ", got " + u.getShape());
    }
    if (!TorchAutograd.isTorch(x)) {
      throw new IllegalArgumentException("differentiable input gradients need PyTorch arrays, x is on "
          + x.getManager().getEngine().getEngineName());
    }
    return TorchAutograd.vjpWithGraph(y, x, u.toType(y.getDataType(), false));
  }
}
