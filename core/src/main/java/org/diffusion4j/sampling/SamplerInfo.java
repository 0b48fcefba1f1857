package org.diffusion4j.sampling;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A registered sampler: identifier, kind, one-line summary with its citation, parameters, factory.
 *
 * @param id CLI identifier
 * @param stochastic whether it draws fresh noise (SDE samplers)
 * @param summary one line: the method and its source
 * @param params declared parameters with defaults
 * @param factory builds the sampler from checked parameters
 */
public record SamplerInfo(String id, boolean stochastic, String summary, List<ParamSpec> params,
    Function<SamplerParams, Sampler> factory) {

  /** Builds the sampler, checking parameter names and values. */
  public Sampler create(Map<String, String> values) {
    return factory.apply(new SamplerParams(id, params, values));
  }
}
