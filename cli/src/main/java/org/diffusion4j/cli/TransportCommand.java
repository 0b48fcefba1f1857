package org.diffusion4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.diffusion4j.denoiser.Conditioning;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.TrainedModel;
import org.diffusion4j.train.transport.FlowSpec;
import org.diffusion4j.train.transport.Points;
import org.diffusion4j.train.transport.Reflow;
import org.diffusion4j.train.transport.TransportReport;
import org.diffusion4j.train.transport.VelocityField;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code d4j transport}: straightness, induced transport cost vs exact OT, Euler error vs NFE of a flow. */
@Command(name = "transport", aliases = "straightness", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measure a trained flow along its own ODE paths from N source draws: straightness S = "
        + "E∫|v - (x1 - x0)|² dt and kinetic energy (RK4 reference), the transport cost E|x1 - x0|² of the coupling it "
        + "induces against the exact OT cost of the same points, and, per Euler step count, the endpoint error and the "
        + "sliced W2 to the data.",
    footer = {"", "Examples:", "  d4j transport --model runs/ot-cfm --n 2000 --euler 1,2,4,8,100"})
public final class TransportCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  DeviceOptions deviceOptions;

  @Spec
  CommandSpec spec;

  @Option(names = "--model", paramLabel = "RUN", required = true, description = "A flow run directory.")
  Path model;

  @Option(names = "--n", paramLabel = "N", defaultValue = "2000",
      description = "Source draws (default: ${DEFAULT-VALUE}; exact OT up to 2000, Sinkhorn beyond).")
  int n;

  @Option(names = "--euler", paramLabel = "K,…", split = ",", defaultValue = "1,2,4,8,100",
      description = "Euler step counts (default: ${DEFAULT-VALUE}).")
  int[] euler;

  @Option(names = "--reference-steps", paramLabel = "N", defaultValue = "100",
      description = "RK4 steps of the reference paths (default: ${DEFAULT-VALUE}).")
  int referenceSteps;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (n < 2) {
      throw new IllegalArgumentException("--n must be >= 2, got " + n);
    }
    for (int k : euler) {
      if (k < 1) {
        throw new IllegalArgumentException("--euler step counts must be >= 1, got " + k);
      }
    }
    if (!RunDirs.isRun(model)) {
      throw new IllegalArgumentException("--model " + model + " holds no run");
    }
    FlowSpec flow = Reflow.specOf(model);
    PrintWriter w = spec.commandLine().getOut();
    try (TrainedModel m = TrainedModel.load(model, true)) {
      if (m.config().classes() > 0) {
        throw new IllegalArgumentException(model + " is class-conditional; the transport report measures unconditional flows");
      }
      long[] shape = m.config().sampleShape();
      double[] x0 = Reflow.sourceDraws(flow, shape, n, seed);
      int d = x0.length / n;
      DataSource data = DataSources.parse(m.config().data());
      float[] f = data.sample(n, new SplittableRandom(seed + 1)).x();
      double[] y = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        y[i] = f[i];
      }
      VelocityField v = VelocityField.of(m.denoiser(), shape, Conditioning.NONE);
      TransportReport r = TransportReport.measure(v, new Points(x0, n, d), new Points(y, n, d), euler, referenceSteps);
      w.println(model + ": " + flow.describe() + ", " + n + " source draws");
      r.lines().forEach(w::println);
    }
    return 0;
  }
}
