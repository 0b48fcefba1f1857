package org.diffusion4j.likelihood;

/** The likelihood ODE met a non-finite model output, trace or state; the message names the point and σ. */
public final class NonFiniteLikelihoodException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** With the offending point and σ. */
  public NonFiniteLikelihoodException(String message) {
    super(message + "; the model is not smooth enough there (an undertrained network?) or the tolerances are too loose");
  }
}
