package org.diffusion4j.train.distill;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.TrainingLoss;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.tensor.Scalars;

/**
 * Knowledge distillation (Luhman &amp; Luhman 2021): a one-step student regresses the teacher's many-step
 * deterministic solve from the same prior draw, {@code L = E_z ‖f_θ(z, σ_max) − Solver_{σ_max→0}(z; φ)‖²/D},
 * z ~ N(0, σ_max² I). The solve runs fresh every step (no cached pairs), which costs the solver's NFE per
 * example; the student, consistency-preconditioned, is a one-step flow map to σ = 0.
 */
public final class KnowledgeDistillationLoss implements TrainingLoss {
  private final String student;
  private final String teacher;
  private final Sampler solver;
  private final Grid grid;

  /**
   * @param solver a deterministic sampler (Heun)
   * @param grid its grid; the first σ is the student's input level, the process must have s(t) = 1 (EDM)
   */
  public KnowledgeDistillationLoss(String student, String teacher, Sampler solver, Grid grid) {
    if (solver.stochastic()) {
      throw new IllegalArgumentException("knowledge distillation needs a deterministic solver, got " + solver.id());
    }
    if (grid.s(0) != 1 || grid.s(grid.size() - 1) != 1) {
      throw new IllegalArgumentException("knowledge distillation needs a grid on a process with s(t) = 1 (edm)");
    }
    this.student = student;
    this.teacher = teacher;
    this.solver = solver;
    this.grid = grid;
  }

  /** The teacher's solve from x̂ = z at the grid's first σ to its last. */
  public NDArray target(Denoiser teacherNet, NDArray z) {
    return solver.run(teacherNet, grid, z, NoiseSource.NONE, StepListener.NONE).stopGradient();
  }

  @Override
  public Value compute(StepContext ctx) {
    NDArray like = ctx.batch().x();
    int n = Math.toIntExact(like.getShape().get(0));
    double top = grid.sigma(0);
    NDArray z = Scalars.mul(ctx.normals(like), top);
    Conditioning c = ctx.conditioning();
    NDArray want = target(ctx.frozen(teacher).conditioned(c), z);
    NetworkDenoiser net = ctx.trainable(student);
    NDArray got = net.forward(ctx.parameters(), true, z, Denoiser.constant(n, top), c).denoised();
    NDArray loss = got.sub(want).square().mean();
    return new Value(loss, Map.of());
  }
}
