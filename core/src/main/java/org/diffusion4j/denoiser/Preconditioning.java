package org.diffusion4j.denoiser;

import java.util.Locale;

/**
 * How a raw network F becomes a denoiser: {@code D(x̂; σ) = c_skip(σ) x̂ + c_out(σ) F(c_in(σ) x̂;
 * c_noise(σ))} with x̂ in EDM coordinates (Karras et al. 2022 Table 1).
 * Each case is the paper's table row.
 */
public sealed interface Preconditioning {

  /** The coefficients at noise level σ. */
  Scalings scalings(double sigma);

  /**
   * Identifier for configs: {@code edm}, {@code vp}, {@code ve}, {@code flow}, {@code x0}, {@code cm},
   * {@code trigflow}.
   */
  String id();

  /**
   * Parses an identifier with default parameters; {@code process} is the run's forward process (used by
   * {@code vp}, whose network is told the process's own time).
   */
  static Preconditioning parse(String id, org.diffusion4j.process.NoiseProcess process) {
    switch (id.toLowerCase(Locale.ROOT)) {
      case "edm":
        return new Edm(0.5);
      case "vp":
        return new Vp(process, 1000);
      case "ve":
        return new Ve();
      case "flow":
        return new Flow();
      case "x0":
        return new X0(0.5);
      case "cm":
        return new Consistency(0.5, Consistency.DEFAULT_SIGMA_MIN);
      case "trigflow":
        return new TrigFlow(0.5);
      default:
        throw new IllegalArgumentException(
            "unknown preconditioning '" + id + "'; accepted: edm, vp, ve, flow, x0, cm, trigflow");
    }
  }

  /**
   * EDM: {@code c_skip = σd²/(σ²+σd²)}, {@code c_out = σ σd/sqrt(σ²+σd²)}, {@code c_in = 1/sqrt(σ²+σd²)},
   * {@code c_noise = ¼ ln σ}.
   *
   * @param sigmaData σ_data (0.5)
   */
  record Edm(double sigmaData) implements Preconditioning {
    @Override
    public Scalings scalings(double sigma) {
      double r = sigma * sigma + sigmaData * sigmaData;
      return new Scalings(sigmaData * sigmaData / r, sigma * sigmaData / Math.sqrt(r), 1 / Math.sqrt(r),
          0.25 * Math.log(sigma));
    }

    @Override public String id() { return "edm"; }
  }

  /**
   * VP (ε-prediction network): {@code c_skip = 1}, {@code c_out = −σ}, {@code c_in = 1/sqrt(σ²+1)} (the VP
   * state x_t for x̂), and the network is told the time of the run's own process: the timestep
   * {@code t(σ)} itself on a discrete DDPM schedule (what diffusers' ε-networks take, fractional between
   * table entries), else {@code c_noise = (M−1)·t(σ)/max(1, t_max)} (Song et al. 2021's VP SDE with
   * M = 1000 for t ∈ [0, 1]).
   *
   * @param process the forward process the network is trained on
   * @param m the number of time steps the continuous time is scaled to (1000)
   */
  record Vp(org.diffusion4j.process.NoiseProcess process, int m) implements Preconditioning {
    public Vp {
      java.util.Objects.requireNonNull(process, "process");
      if (m < 2) {
        throw new IllegalArgumentException("VP preconditioning: M must be >= 2, got " + m);
      }
    }

    /** Song et al.'s VP SDE (β from 0.1 to 20) with M = 1000. */
    public static Vp standard() {
      return new Vp(org.diffusion4j.process.VpLinear.DEFAULT, 1000);
    }

    @Override
    public Scalings scalings(double sigma) {
      double t = process.sigmaInv(sigma);
      double cNoise = process instanceof org.diffusion4j.process.DiscreteDdpm ? t
          : (m - 1) * t / Math.max(1, process.tMax());
      return new Scalings(1, -sigma, 1 / Math.sqrt(sigma * sigma + 1), cNoise);
    }

    @Override public String id() { return "vp"; }
  }

  /** VE (score-type network): {@code c_skip = 1}, {@code c_out = σ}, {@code c_in = 1}, {@code c_noise = ln(σ/2)}. */
  record Ve() implements Preconditioning {
    @Override
    public Scalings scalings(double sigma) {
      return new Scalings(1, sigma, 1, Math.log(0.5 * sigma));
    }

    @Override public String id() { return "ve"; }
  }

  /**
   * Rectified flow with a velocity network {@code u(x_t, t)} at {@code t = σ/(1+σ)}, {@code x_t = x̂/(1+σ)}:
   * {@code x0 = x_t − t u = x̂/(1+σ) − t u}, so {@code c_skip = 1/(1+σ)}, {@code c_out = −t},
   * {@code c_in = 1/(1+σ)}, {@code c_noise = t}.
   */
  record Flow() implements Preconditioning {
    @Override
    public Scalings scalings(double sigma) {
      double t = sigma / (1 + sigma);
      return new Scalings(1 / (1 + sigma), -t, 1 / (1 + sigma), t);
    }

    @Override public String id() { return "flow"; }
  }

  /**
   * x0-prediction: {@code c_skip = 0}, {@code c_out = 1}, {@code c_in = 1/sqrt(σ² + σd²)},
   * {@code c_noise = ¼ ln σ}.
   *
   * @param sigmaData σ_data (0.5)
   */
  record X0(double sigmaData) implements Preconditioning {
    @Override
    public Scalings scalings(double sigma) {
      return new Scalings(0, 1, 1 / Math.sqrt(sigma * sigma + sigmaData * sigmaData), 0.25 * Math.log(sigma));
    }

    @Override public String id() { return "x0"; }
  }

  /**
   * Consistency model: the boundary-condition parameterisation of Song, Dhariwal, Chen &amp; Sutskever
   * 2023 (Appendix C), {@code c_skip = σd²/((σ − σ_min)² + σd²)}, {@code c_out = σd (σ − σ_min)/sqrt(σd² + σ²)},
   * {@code c_in = 1/sqrt(σ² + σd²)}, {@code c_noise = ¼ ln σ}: at σ = σ_min exactly {@code c_skip = 1} and
   * {@code c_out = 0}, so {@code f(x̂, σ_min) = x̂} whatever F.
   *
   * @param sigmaData σ_data (0.5)
   * @param sigmaMin σ_min, the smallest noise level (0.002), ≥ 0
   */
  record Consistency(double sigmaData, double sigmaMin) implements Preconditioning {
    /** Song et al.'s σ_min = 0.002. */
    public static final double DEFAULT_SIGMA_MIN = 0.002;

    public Consistency {
      if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
        throw new IllegalArgumentException("consistency preconditioning: sigma_data must be finite and > 0, got "
            + sigmaData);
      }
      if (!(sigmaMin >= 0) || Double.isInfinite(sigmaMin)) {
        throw new IllegalArgumentException("consistency preconditioning: sigma_min must be finite and >= 0, got "
            + sigmaMin);
      }
    }

    @Override
    public Scalings scalings(double sigma) {
      double d = sigma - sigmaMin;
      double sd2 = sigmaData * sigmaData;
      return new Scalings(sd2 / (d * d + sd2), sigmaData * d / Math.sqrt(sd2 + sigma * sigma),
          1 / Math.sqrt(sigma * sigma + sd2), 0.25 * Math.log(sigma));
    }

    @Override public String id() { return "cm"; }
  }

  /**
   * TrigFlow (Lu &amp; Song 2024, "Simplifying, Stabilizing and Scaling Continuous-Time Consistency
   * Models", eq. 2 and 4): {@code x_t = cos(t) x0 + sin(t) z}, z ~ N(0, σd² I), t ∈ [0, π/2], i.e. x̂ = x_t/cos t
   * at σ = σd tan t, and the consistency function {@code f(x_t, t) = cos(t) x_t − sin(t) σd F(x_t/σd, t)}.
   * In x̂ and σ: {@code c_skip = σd²/(σ² + σd²)}, {@code c_out = −σ σd/sqrt(σ² + σd²)},
   * {@code c_in = 1/sqrt(σ² + σd²)}, {@code c_noise = t = atan(σ/σd)}: EDM's coefficients with F negated and
   * the time itself as the noise input. At σ = 0, c_skip = 1 and c_out = 0: f(x̂, 0) = x̂ whatever F.
   *
   * @param sigmaData σ_d (0.5)
   */
  record TrigFlow(double sigmaData) implements Preconditioning {
    public TrigFlow {
      if (!(sigmaData > 0) || Double.isInfinite(sigmaData)) {
        throw new IllegalArgumentException("TrigFlow preconditioning: sigma_data must be finite and > 0, got "
            + sigmaData);
      }
    }

    /** The TrigFlow time t = atan(σ/σd) of level σ. */
    public double time(double sigma) {
      return Math.atan2(sigma, sigmaData);
    }

    @Override
    public Scalings scalings(double sigma) {
      double r = sigma * sigma + sigmaData * sigmaData;
      return new Scalings(sigmaData * sigmaData / r, -sigma * sigmaData / Math.sqrt(r), 1 / Math.sqrt(r), time(sigma));
    }

    @Override public String id() { return "trigflow"; }
  }
}
