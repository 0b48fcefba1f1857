package org.diffusion4j.train.transport;

import java.util.Locale;

/**
 * An affine conditional path between a source point x0 (t = 0) and a target point x1 (t = 1), in the
 * flow-matching convention (Lipman et al. 2023; Tong et al. 2024):
 * {@code x_t = a(t) x0 + b(t) x1 + s(t) ε}, ε ~ N(0, I), whose conditional velocity is
 * {@code u_t = a'(t) x0 + b'(t) x1 + s'(t) ε}. For a Gaussian source this two-sided target equals the
 * one-sided one {@code b' x1 + (a'/a)(x − b x1)} on the path, so both have the same minimiser
 * {@code v*(x, t) = E[u_t | x_t = x]}.
 */
public sealed interface ConditionalPath {
  double a(double t);

  double da(double t);

  double b(double t);

  double db(double t);

  /** Bridge noise s(t) (0 for deterministic paths). */
  default double s(double t) {
    return 0;
  }

  /** s'(t). */
  default double ds(double t) {
    return 0;
  }

  /** Identifier as configs spell it. */
  String id();

  /** The path's parameter (σ, σ_min, …) or 0. */
  double parameter();

  /**
   * The rectified-flow / CFM path {@code x_t = (1 − t) x0 + t x1 + σ ε} (Liu et al. 2023; Tong et al.
   * 2024's CFM with constant σ; σ = 0 is rectified flow).
   *
   * @param sigma constant bridge noise σ ≥ 0
   */
  record Linear(double sigma) implements ConditionalPath {
    public Linear {
      requireNonNegative("sigma", sigma);
    }

    @Override public double a(double t) { return 1 - t; }
    @Override public double da(double t) { return -1; }
    @Override public double b(double t) { return t; }
    @Override public double db(double t) { return 1; }
    @Override public double s(double t) { return sigma; }
    @Override public String id() { return "linear"; }
    @Override public double parameter() { return sigma; }
  }

  /**
   * The Brownian-bridge path of Schrödinger-bridge CFM: {@code x_t = (1 − t) x0 + t x1 + σ sqrt(t(1 − t)) ε}
   * (Tong et al. 2024), with {@code s' = σ(1 − 2t)/(2 sqrt(t(1 − t)))}.
   *
   * @param sigma the bridge's σ &gt; 0
   */
  record BrownianBridge(double sigma) implements ConditionalPath {
    public BrownianBridge {
      requireNonNegative("sigma", sigma);
    }

    @Override public double a(double t) { return 1 - t; }
    @Override public double da(double t) { return -1; }
    @Override public double b(double t) { return t; }
    @Override public double db(double t) { return 1; }
    @Override public double s(double t) { return sigma * Math.sqrt(t * (1 - t)); }
    @Override public double ds(double t) { return sigma * (1 - 2 * t) / (2 * Math.sqrt(t * (1 - t))); }
    @Override public String id() { return "bridge"; }
    @Override public double parameter() { return sigma; }
  }

  /**
   * Lipman et al. 2023's OT path for a N(0, I) source, eq. 20–22: {@code μ_t = t x1},
   * {@code σ_t = 1 − (1 − σ_min) t}, i.e. {@code x_t = (1 − (1 − σ_min) t) x0 + t x1}, target
   * {@code x1 − (1 − σ_min) x0}.
   *
   * @param sigmaMin σ_min ≥ 0
   */
  record LipmanOt(double sigmaMin) implements ConditionalPath {
    public LipmanOt {
      requireNonNegative("sigma-min", sigmaMin);
      if (sigmaMin >= 1) {
        throw new IllegalArgumentException("sigma-min must be < 1, got " + sigmaMin);
      }
    }

    @Override public double a(double t) { return 1 - (1 - sigmaMin) * t; }
    @Override public double da(double t) { return -(1 - sigmaMin); }
    @Override public double b(double t) { return t; }
    @Override public double db(double t) { return 1; }
    @Override public String id() { return "lipman"; }
    @Override public double parameter() { return sigmaMin; }
  }

  /**
   * The trigonometric (variance-preserving) path {@code x_t = cos(πt/2) x0 + sin(πt/2) x1} (Albergo &amp;
   * Vanden-Eijnden 2023; torchcfm's VP-CFM).
   */
  record Trigonometric() implements ConditionalPath {
    @Override public double a(double t) { return Math.cos(0.5 * Math.PI * t); }
    @Override public double da(double t) { return -0.5 * Math.PI * Math.sin(0.5 * Math.PI * t); }
    @Override public double b(double t) { return Math.sin(0.5 * Math.PI * t); }
    @Override public double db(double t) { return 0.5 * Math.PI * Math.cos(0.5 * Math.PI * t); }
    @Override public String id() { return "trig"; }
    @Override public double parameter() { return 0; }
  }

  /**
   * The VP diffusion path written as a flow-matching path (Lipman et al. 2023, eq. 19, with the
   * flow-matching convention of data at t = 1): {@code b(t) = α(1 − t)}, {@code a(t) = sqrt(1 − α(1 − t)²)},
   * {@code α(r) = exp(−½ ∫_0^r β)}, β linear from 0.1 to {@code betaMax}. a'(t) is singular at t = 1
   * (the loss draws t &lt; 1).
   *
   * @param betaMax β(1) (20 in Song et al. 2021)
   */
  record Vp(double betaMax) implements ConditionalPath {
    static final double BETA_MIN = 0.1;

    public Vp {
      if (!(betaMax > BETA_MIN) || Double.isInfinite(betaMax)) {
        throw new IllegalArgumentException("VP beta-max must be finite and > 0.1, got " + betaMax);
      }
    }

    private double alpha(double r) {
      return Math.exp(-0.5 * (BETA_MIN * r + 0.5 * (betaMax - BETA_MIN) * r * r));
    }

    private double beta(double r) {
      return BETA_MIN + (betaMax - BETA_MIN) * r;
    }

    @Override public double a(double t) { double al = alpha(1 - t); return Math.sqrt(1 - al * al); }
    @Override public double da(double t) {
      double al = alpha(1 - t);
      return -0.5 * beta(1 - t) * al * al / Math.sqrt(1 - al * al);
    }
    @Override public double b(double t) { return alpha(1 - t); }
    @Override public double db(double t) { return 0.5 * beta(1 - t) * alpha(1 - t); }
    @Override public String id() { return "vp"; }
    @Override public double parameter() { return betaMax; }
  }

  /**
   * The VE diffusion path as a flow-matching path (Lipman et al. 2023, eq. 18, in the flow-matching
   * convention: source at t = 0): {@code b ≡ 1}, {@code a(t) = σ(1 − t)} with
   * {@code σ(r) = σ_min (σ_max/σ_min)^r} from 0.01, so the t = 0 end is the source scaled by σ_max.
   *
   * @param sigmaMax σ_max
   */
  record Ve(double sigmaMax) implements ConditionalPath {
    static final double SIGMA_MIN = 0.01;

    public Ve {
      if (!(sigmaMax > SIGMA_MIN) || Double.isInfinite(sigmaMax)) {
        throw new IllegalArgumentException("VE sigma-max must be finite and > 0.01, got " + sigmaMax);
      }
    }

    @Override public double a(double t) { return SIGMA_MIN * Math.pow(sigmaMax / SIGMA_MIN, 1 - t); }
    @Override public double da(double t) { return -Math.log(sigmaMax / SIGMA_MIN) * a(t); }
    @Override public double b(double t) { return 1; }
    @Override public double db(double t) { return 0; }
    @Override public String id() { return "ve"; }
    @Override public double parameter() { return sigmaMax; }
  }

  /** Whether x_t with this path is the frame's rectified-flow state (the samplers of the frame apply). */
  default boolean isRectified() {
    return this instanceof Linear l && l.sigma() == 0 || this instanceof LipmanOt o && o.sigmaMin() == 0;
  }

  /** A path by name with its parameter: {@code linear σ}, {@code bridge σ}, {@code lipman σ_min}, {@code trig}, {@code vp β_max}, {@code ve σ_max}. */
  static ConditionalPath parse(String id, double parameter) {
    switch (id.toLowerCase(Locale.ROOT)) {
      case "linear":
        return new Linear(parameter);
      case "bridge":
        return new BrownianBridge(parameter);
      case "lipman":
        return new LipmanOt(parameter);
      case "trig":
        return new Trigonometric();
      case "vp":
        return new Vp(parameter > 0 ? parameter : 20);
      case "ve":
        return new Ve(parameter > 0 ? parameter : 80);
      default:
        throw new IllegalArgumentException("unknown path '" + id + "'; accepted: linear, bridge, lipman, trig, vp, ve");
    }
  }

  private static void requireNonNegative(String name, double v) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + v);
    }
  }
}
