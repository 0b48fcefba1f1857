package org.diffusion4j.sampling.ode;

import java.util.Map;
import org.diffusion4j.sampling.SamplerRegistry;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;

/** The samplers added with PNDM, ParaDiGMS, DPM-Solver-v3 and the reverse-SDE family leave no arrays behind. */
class NewLoopsMemoryTest {
  @Test
  void paraDigmsRunsFlat() {
    OdeChecks.assertMemoryFlat(SamplerRegistry.create("paradigms", Map.of()), Oracle.mixture());
  }

  @Test
  void dpmSolverV3RunsFlat() {
    OdeChecks.assertMemoryFlat(SamplerRegistry.create("dpm-solver-v3", Map.of()), Oracle.mixture());
  }

  @Test
  void reverseSdeFamilyRunsFlat() {
    // η = 0: the deterministic member, so the check's NoiseSource.NONE suffices.
    OdeChecks.assertMemoryFlat(SamplerRegistry.create("sde", Map.of("eta", "0")), Oracle.mixture());
  }
}
