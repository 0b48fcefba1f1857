package org.diffusion4j.cli;

import picocli.CommandLine.Option;

/**
 * The knobs of Mean Flow (mf) and continuous-time consistency (sct, scd) runs, shared by {@code d4j train}
 * and {@code d4j distill}; each command checks they fit its objective or method and refuses them on --resume.
 */
final class FlowMapOptions {
  /** The option names (for --resume refusals). */
  static final java.util.List<String> NAMES = java.util.List.of("--mf-unequal", "--mf-power", "--scm-p-mean",
      "--scm-p-std");

  @Option(names = "--mf-unequal", paramLabel = "F",
      description = "mf: the share of examples with r < t; the rest have r = t (flow matching) (default 0.25, Geng et "
          + "al. 2025's best).")
  Double mfUnequal;

  @Option(names = "--mf-power", paramLabel = "P",
      description = "mf: the exponent p of the adaptive loss weight 1/(|Δ|² + 1e-3)^p; 0 is plain squared error "
          + "(default 1, Geng et al.'s best on images; 0.5 is far better on 2-D data).")
  Double mfPower;

  @Option(names = "--scm-p-mean", paramLabel = "M",
      description = "sct, scd: the mean of log σ in the noise-level draw σ = e^τ, τ ~ N(M, S²) (default: Lu & Song "
          + "2024's, -1.0 for sct, -0.8 for scd; -1.5 and -2.0 are far better on 2-D data).")
  Double scmPMean;

  @Option(names = "--scm-p-std", paramLabel = "S",
      description = "sct, scd: the standard deviation S of log σ (default 1.4 for sct, 1.6 for scd).")
  Double scmPStd;

  /** Refuses the Mean Flow options unless {@code id} is {@code mf}, the sCM ones unless it is {@code scm}. */
  void check(String kind, String id, String scm) {
    if ((mfUnequal != null || mfPower != null) && !id.equalsIgnoreCase("mf")) {
      throw new IllegalArgumentException((mfUnequal != null ? "--mf-unequal" : "--mf-power") + " applies to " + kind
          + " mf only, not " + id);
    }
    if ((scmPMean != null || scmPStd != null) && !id.equalsIgnoreCase(scm)) {
      throw new IllegalArgumentException((scmPMean != null ? "--scm-p-mean" : "--scm-p-std") + " applies to " + kind
          + " " + scm + " only, not " + id);
    }
  }
}
