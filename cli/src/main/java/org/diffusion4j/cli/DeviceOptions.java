package org.diffusion4j.cli;

import java.util.Locale;
import org.diffusion4j.device.Devices;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --device} and {@code --precision} of every command that runs a network. */
final class DeviceOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  String device = "default";

  @Option(names = "--device", paramLabel = "cpu|gpu[:N]",
      description = "Where networks, data and samples live (default: DJL's choice, the first GPU when the PyTorch "
          + "native library has CUDA and one is visible, else cpu).")
  void device(String name) {
    try {
      Devices.use(Devices.parse(name));
      device = name;
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  @Option(names = "--precision", paramLabel = "fp32|bf16|fp16", defaultValue = "fp32",
      description = "Network arithmetic (default: ${DEFAULT-VALUE}); bf16/fp16 are refused, see the README's GPU section.")
  void precision(String p) {
    switch (p.toLowerCase(Locale.ROOT)) {
      case "fp32" -> { }
      case "bf16", "fp16" -> throw new ParameterException(spec.commandLine(), "--precision " + p + " is not available: "
          + "DJL 0.36 exposes no PyTorch autocast, and the networks run in float32 by construction (inputs and the "
          + "noise embedding are cast to float32), so a reduced-precision forward needs a compute dtype in the network "
          + "code; use --precision fp32");
      default -> throw new ParameterException(spec.commandLine(), "unknown --precision '" + p
          + "'; accepted: fp32, bf16, fp16");
    }
  }
}
