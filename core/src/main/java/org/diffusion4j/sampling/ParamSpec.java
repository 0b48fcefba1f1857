package org.diffusion4j.sampling;

/**
 * A declared sampler hyper-parameter, as {@code d4j samplers} lists it.
 *
 * @param name the {@code --param} name (lower case)
 * @param defaultValue its default, as text
 * @param description one line: meaning and accepted range
 * @param range for numeric parameters the accepted values, checked when the value is read; null for
 *     words, booleans and lists
 */
public record ParamSpec(String name, String defaultValue, String description, ParamRange range) {
  /** A parameter without a numeric range. */
  public ParamSpec(String name, String defaultValue, String description) {
    this(name, defaultValue, description, null);
  }

  /** A numeric parameter; its description ends with the printed range. */
  public static ParamSpec number(String name, String defaultValue, String meaning, ParamRange range) {
    return new ParamSpec(name, defaultValue, meaning + ", " + range, range);
  }
}
