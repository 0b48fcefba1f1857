package org.diffusion4j.sampling.sde;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.sampling.NoiseSource;
import org.diffusion4j.sampling.ParamRange;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * Predictor–corrector sampling (Song et al. 2021 §4.2, App. G Alg. 4–5; score_sde
 * {@code get_pc_sampler} with {@code LangevinCorrector} and {@code EulerMaruyamaPredictor}),
 * in the process's own coordinates x.
 *
 * <p>At each grid point t_i (i &lt; N): {@code corrector-steps} Langevin steps at fixed t_i,
 * {@code x ← x + ε·score + sqrt(2ε)·z} with {@code ε = 2α_i(r·‖z‖/‖score‖)²}, then one Euler–Maruyama
 * step of the reverse SDE to t_{i+1} ({@link EulerMaruyama}: noise-free last step). As in score_sde the
 * norms are per-sample L2 norms over all dimensions, <em>averaged over the batch</em> before the ratio,
 * so one ε is shared by the batch and a sample's path depends on its batch mates (unlike the other
 * samplers); {@code α_i = (α(t_i)/α(t_{i+1}))²} is the per-step signal retention, score_sde's
 * {@code 1 − β_i} on VP and 1 on VE. NFE = N·(corrector-steps + 1).
 *
 * @param snr the signal-to-noise ratio r of the corrector (0.16, score_sde's VE default; 0 disables)
 * @param correctorSteps Langevin steps per grid point (1)
 */
public record PredictorCorrector(double snr, int correctorSteps) implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("pc", true,
      "Predictor-corrector: Langevin corrector + Euler-Maruyama predictor (Song et al. 2021 App. G; score_sde); (M+1) NFE/step",
      List.of(ParamSpec.number("snr", "0.16", "corrector signal-to-noise ratio r", ParamRange.closed(0, 10)),
          ParamSpec.number("corrector-steps", "1", "Langevin steps per grid point", ParamRange.ints(0, 1000))),
      p -> new PredictorCorrector(p.getDouble("snr"), p.getInt("corrector-steps")));

  public PredictorCorrector {
    if (!(snr >= 0 && snr <= 10)) {
      throw new IllegalArgumentException("snr must lie in [0, 10], got " + snr);
    }
    if (correctorSteps < 0 || correctorSteps > 1000) {
      throw new IllegalArgumentException("corrector-steps must lie in [0, 1000], got " + correctorSteps);
    }
  }

  /** score_sde's defaults: r = 0.16, one corrector step. */
  public PredictorCorrector() {
    this(0.16, 1);
  }

  @Override
  public String id() {
    return "pc";
  }

  @Override
  public boolean stochastic() {
    return true;
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x0, NoiseSource noise, StepListener listener) {
    NDArray x = x0;
    for (int i = 0; i < grid.steps(); i++) {
      // Corrector: Langevin at fixed t_i.
      for (int m = 0; m < correctorSteps; m++) {
        try (StepScope step = new StepScope()) {
          NDArray next = step.keep(langevin(model, grid, i, x, noise, snr));
          if (x != x0) {
            x.close();
          }
          x = next;
        }
      }
      // Predictor: Euler–Maruyama to t_{i+1}.
      x = ReverseSde.eulerMaruyamaStep(model, grid, i, x, x0, noise, listener);
    }
    return x;
  }

  /**
   * One Langevin corrector step at grid point i (i &lt; N): {@code x + ε·score + sqrt(2ε)·z},
   * {@code ε = 2α_i(r·mean_b‖z_b‖ / mean_b‖score_b‖)²} (score_sde {@code LangevinCorrector}); 1 NFE.
   */
  static NDArray langevin(Denoiser model, Grid grid, int i, NDArray x, NoiseSource noise, double snr) {
    NDArray score = ReverseSde.score(grid, i, x, ReverseSde.denoise(model, grid, i, x));
    NDArray z = noise.randn(x.getManager(), x.getShape(), x.getDataType());
    double retention = grid.alpha(i) / grid.alpha(i + 1);
    double scoreNorm = meanNorm(score);
    if (snr == 0 || scoreNorm == 0) {
      // No step: r = 0 disables the corrector, and a score that rounds to 0 (float32 at σ ≈ 1e-6, where
      // D − x is below x's ulp) leaves ε = 2α(r‖z‖/0)² undefined — score_sde's ε would be ∞ and x NaN.
      return x.duplicate();
    }
    double ratio = snr * meanNorm(z) / scoreNorm;
    double eps = 2 * retention * retention * ratio * ratio;
    return x.add(score.mul(eps)).add(z.mul(Math.sqrt(2 * eps)));
  }

  /** The batch mean of the per-sample L2 norms. */
  private static double meanNorm(NDArray a) {
    long n = a.getShape().get(0);
    return a.reshape(n, -1).norm(new int[] {1}).mean().toType(DataType.FLOAT64, false).getDouble();
  }
}
