package org.diffusion4j.cli;

import org.diffusion4j.guidance.MeasurementOperator;
import org.diffusion4j.guidance.PseudoinverseGuidance;
import org.diffusion4j.denoiser.Denoiser;
import picocli.CommandLine.Option;

/** The options of {@code --method pigdm} (ΠGDM, Song et al. 2023) shared by {@code d4j inpaint} and {@code restore}. */
final class PigdmOptions {
  @Option(names = "--sigma-y", paramLabel = "S",
      description = "pigdm: the measurement noise std σ_y assumed, stored units (default: restore's --noise-std, "
          + "inpaint's 0).")
  Double sigmaY;

  @Option(names = "--pigdm-sigma-data", paramLabel = "S",
      description = "pigdm: r² = S²σ²/(S² + σ²), Song et al.'s σ²/(1 + σ²) for S = 1 (default: the run's σ_data).")
  Double sigmaData;

  @Option(names = "--pigdm-scale", paramLabel = "W", defaultValue = "1",
      description = "pigdm: the guidance weight w (default: ${DEFAULT-VALUE}, the approximation as is).")
  double scale;

  @Option(names = "--cg-iterations", paramLabel = "N", defaultValue = "1000",
      description = "pigdm: the conjugate gradients' bound where A Aᵀ is not diagonal (blur) (default: ${DEFAULT-VALUE}).")
  int cgIterations;

  /** Names of the options, to refuse them with other methods. */
  static final String[] NAMES = {"--sigma-y", "--pigdm-sigma-data", "--pigdm-scale", "--cg-iterations"};

  /** ΠGDM around {@code model}; {@code defaultSigmaY} when --sigma-y is not given, {@code runSigmaData} the run's σ_data. */
  PseudoinverseGuidance build(Denoiser model, MeasurementOperator a, double[] y, double defaultSigmaY,
      double runSigmaData) {
    double sy = sigmaY == null ? defaultSigmaY : sigmaY;
    if (!(sy >= 0) || Double.isInfinite(sy)) {
      throw new IllegalArgumentException("--sigma-y must be finite and >= 0, got " + sy);
    }
    double sd = sigmaData == null ? runSigmaData : sigmaData;
    if (!(sd > 0) || Double.isInfinite(sd)) {
      throw new IllegalArgumentException("--pigdm-sigma-data must be finite and > 0, got " + sd);
    }
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("--pigdm-scale must be finite and >= 0, got " + scale);
    }
    if (cgIterations < 1 || cgIterations > 100_000) {
      throw new IllegalArgumentException("--cg-iterations must be in 1..100000, got " + cgIterations);
    }
    PseudoinverseGuidance.Options o = PseudoinverseGuidance.Options.of(sy, sd).withScale(scale)
        .withSolver(cgIterations, 1e-5);
    return new PseudoinverseGuidance(model, a, y, o);
  }

  /** A line for the command's report. */
  String describe(MeasurementOperator a, double defaultSigmaY, double runSigmaData) {
    return String.format(java.util.Locale.ROOT, "ΠGDM (%s, σ_y = %s, r² with σ_data = %s, w = %s)", a.describe(),
        Format.num(sigmaY == null ? defaultSigmaY : sigmaY), Format.num(sigmaData == null ? runSigmaData : sigmaData),
        Format.num(scale));
  }
}
