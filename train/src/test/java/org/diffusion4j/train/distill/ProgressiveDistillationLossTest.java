package org.diffusion4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.denoiser.Denoiser;
import org.junit.jupiter.api.Test;

/** The progressive-distillation target is two teacher DDIM steps folded into one. */
class ProgressiveDistillationLossTest {
  private static final GaussianMixture MIX = GaussianMixture.demo2d();

  @Test
  void oneStudentDdimStepWithTheTargetEqualsTwoTeacherDdimSteps() {
    try (NDManager m = NDManager.newBaseManager()) {
      int n = 64;
      SplittableRandom r = new SplittableRandom(1);
      double[] x = new double[2 * n];
      double[] s = new double[n];
      double[] u = new double[n];
      double[] t = new double[n];
      double[] levels = {80, 10, 1.2, 0.3, 0.002, 0};
      for (int i = 0; i < n; i++) {
        int k = r.nextInt(levels.length - 1);
        s[i] = levels[k];
        t[i] = levels[k + 1];
        u[i] = ProgressiveDistillationLoss.midpoint(s[i], t[i]);
        x[2 * i] = r.nextGaussian() * s[i] + 2;
        x[2 * i + 1] = r.nextGaussian() * s[i];
      }
      NDArray xs = m.create(x, new Shape(n, 2));
      Denoiser teacher = MIX.denoiser();
      NDArray target = ProgressiveDistillationLoss.target(teacher, xs, s, u, t, Conditioning.NONE);
      NDArray two = TeacherStep.EULER.step(teacher, TeacherStep.EULER.step(teacher, xs, s, u, Conditioning.NONE), u, t,
          Conditioning.NONE);
      NDArray one = TeacherStep.EULER.step((xx, sg, c) -> target, xs, s, t, Conditioning.NONE);
      double err = one.sub(two).abs().max().getDouble();
      assertTrue(err < 1e-9 * 80, "one DDIM step with x̃ = two teacher DDIM steps: " + err);
      // And x̃ is not the teacher's own one-step prediction (the target carries the second step).
      double moved = target.sub(teacher.denoise(xs, s, Conditioning.NONE)).abs().max().getDouble();
      assertTrue(moved > 1e-3, "x̃ differs from D(x̂_s): " + moved);
    }
  }

  @Test
  void theTeacherMidpointHalvesTheStepInSigmaToTheOneSeventh() {
    double s = 10;
    double t = 0.3;
    double u = ProgressiveDistillationLoss.midpoint(s, t);
    assertEquals(Math.pow(u, 1 / 7.0) - Math.pow(t, 1 / 7.0), Math.pow(s, 1 / 7.0) - Math.pow(u, 1 / 7.0), 1e-12);
    assertTrue(u < s && u > t);
    assertEquals(Math.pow(0.002, 1 / 7.0) / 2, Math.pow(ProgressiveDistillationLoss.midpoint(0.002, 0), 1 / 7.0), 1e-12);
    assertThrows(IllegalArgumentException.class,
        () -> new ProgressiveDistillationLoss("s", "t", new double[] {1, 2}));
  }

  @Test
  void knowledgeDistillationRegressesTheTeachersSolveWhichForAGaussianIsTheExactMap() {
    try (NDManager m = NDManager.newBaseManager()) {
      GaussianMixture g = GaussianMixture.gaussian(new double[] {1.0, -0.5}, 0.5);
      org.diffusion4j.schedule.Grid grid = org.diffusion4j.schedule.GridSpec.karras().build(
          org.diffusion4j.process.Edm.DEFAULT, 18);
      KnowledgeDistillationLoss kd = new KnowledgeDistillationLoss("s", "t", new org.diffusion4j.sampling.ode.Heun(), grid);
      SplittableRandom r = new SplittableRandom(3);
      double[] z = new double[64];
      for (int i = 0; i < z.length; i++) {
        z[i] = 80 * r.nextGaussian();
      }
      double[] got = kd.target(g.denoiser(), m.create(z, new Shape(32, 2))).toDoubleArray();
      double[] want = org.diffusion4j.analytic.ExactFlowMap.gaussian(new double[] {1.0, -0.5}, 0.5, z, 80, 0);
      double err = 0;
      for (int i = 0; i < z.length; i++) {
        err = Math.max(err, Math.abs(got[i] - want[i]));
      }
      // The 18-step Heun solve itself errs by 0.074 (max over these 64 values of magnitude ~1).
      assertTrue(err < 0.1, "18-step Heun target vs the exact map: " + err);
      assertThrows(IllegalArgumentException.class, () -> new KnowledgeDistillationLoss("s", "t",
          new org.diffusion4j.sampling.ode.Ddim(1), grid));
    }
  }
}
