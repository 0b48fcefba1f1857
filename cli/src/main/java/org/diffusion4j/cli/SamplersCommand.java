package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code d4j samplers}: every registered sampler with its kind, summary, parameters and defaults. */
@Command(name = "samplers", mixinStandardHelpOptions = true,
    description = {"List every sampler: identifier, kind (ODE = deterministic, SDE = draws fresh noise, "
        + "ODE* = deterministic with its defaults, stochastic with some parameters, e.g. ddim eta > 0), "
        + "summary with its source, and its --param names with defaults."},
    footer = {"", "Example:", "  d4j samplers",
        "  d4j sample --model examples/gmm2d.json --sampler heun --out x.png"})
public final class SamplersCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter w = spec.commandLine().getOut();
    for (SamplerInfo s : SamplerRegistry.all()) {
      String kind = s.create(java.util.Map.of()).stochastic() ? "SDE" : s.stochastic() ? "ODE*" : "ODE";
      w.printf("%-22s %-4s %s%n", s.id(), kind, s.summary());
      for (ParamSpec p : s.params()) {
        w.printf("%-28s --param %s=%s  %s%n", "", p.name(), p.defaultValue(), p.description());
      }
    }
    return 0;
  }
}
