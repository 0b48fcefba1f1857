package org.diffusion4j.sampling;

/**
 * A declared sampler hyper-parameter, as {@code d4j samplers} lists it.
 *
 * @param name the {@code --param} name (lower case)
 * @param defaultValue its default, as text
 * @param description one line: meaning and accepted range
 */
public record ParamSpec(String name, String defaultValue, String description) {}
