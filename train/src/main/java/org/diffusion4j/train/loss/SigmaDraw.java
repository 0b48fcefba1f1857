package org.diffusion4j.train.loss;

import java.util.SplittableRandom;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.process.NoiseProcess;

/**
 * How training draws the noise level of each example (the σ-draw p_train(σ) of
 * Karras et al. 2022, Table 1): a distribution over σ (EDM coordinates), drawn on the host from a seeded generator.
 */
public sealed interface SigmaDraw {

  /** One σ per example. */
  double[] draw(int n, SplittableRandom rng);

  /** Identifier and parameters, for configs and logs. */
  String describe();

  /** EDM: {@code ln σ ~ N(P_mean, P_std²)} (P_mean −1.2, P_std 1.2). */
  record LogNormal(double pMean, double pStd) implements SigmaDraw {
    @Override
    public double[] draw(int n, SplittableRandom rng) {
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = Math.exp(pMean + pStd * rng.nextGaussian());
      }
      return s;
    }

    @Override public String describe() { return "lognormal(" + pMean + ", " + pStd + ")"; }
  }

  /** VE / NCSN: {@code ln σ ~ U(ln σ_min, ln σ_max)}). */
  record LogUniform(double sigmaMin, double sigmaMax) implements SigmaDraw {
    @Override
    public double[] draw(int n, SplittableRandom rng) {
      double a = Math.log(sigmaMin);
      double b = Math.log(sigmaMax);
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = Math.exp(a + (b - a) * rng.nextDouble());
      }
      return s;
    }

    @Override public String describe() { return "loguniform(" + sigmaMin + ", " + sigmaMax + ")"; }
  }

  /** Score SDE / VP: {@code t ~ U(t_min, t_max)} of a process, σ = σ(t). */
  record UniformTime(NoiseProcess process, double tMin, double tMax) implements SigmaDraw {
    @Override
    public double[] draw(int n, SplittableRandom rng) {
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = process.sigma(tMin + (tMax - tMin) * rng.nextDouble());
      }
      return s;
    }

    @Override public String describe() { return "uniform-t(" + process.id() + ", " + tMin + ", " + tMax + ")"; }
  }

  /** DDPM: a uniform integer timestep i ∈ {0..N−1}, σ = σ_i (Ho et al. 2020, L_simple). */
  record UniformTimestep(DiscreteDdpm process) implements SigmaDraw {
    @Override
    public double[] draw(int n, SplittableRandom rng) {
      double[] table = process.sigmas();
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        s[i] = table[rng.nextInt(table.length)];
      }
      return s;
    }

    @Override public String describe() { return "uniform-timestep(" + process.trainSteps() + ")"; }
  }

  /**
   * Flow matching: {@code t = sigmoid(N(m, s²))} (logit-normal, Esser et al. 2024), σ = t/(1 − t); with
   * s = 0 replaced by uniform t when {@code uniform} is set.
   */
  record LogitNormal(double mean, double std) implements SigmaDraw {
    @Override
    public double[] draw(int n, SplittableRandom rng) {
      double[] s = new double[n];
      for (int i = 0; i < n; i++) {
        double u = mean + std * rng.nextGaussian();
        // σ = t/(1 − t) = e^u for t = sigmoid(u).
        s[i] = Math.exp(u);
      }
      return s;
    }

    @Override public String describe() { return "logit-normal(" + mean + ", " + std + ")"; }
  }
}
