package org.diffusion4j.sampling;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.Heun;
import org.diffusion4j.sampling.sde.AnnealedLangevin;
import org.diffusion4j.sampling.sde.DdpmAncestral;
import org.diffusion4j.sampling.sde.EulerMaruyama;
import org.diffusion4j.sampling.sde.PredictorCorrector;

/**
 * Every sampler by CLI identifier ({@code d4j samplers} prints this list).
 */
public final class SamplerRegistry {
  private static final List<SamplerInfo> ALL = new ArrayList<>();

  static {
    // The default: the measured best sampler and schedule for the NFE budget.
    ALL.add(AutoSampler.INFO);
    // ODE samplers in σ-space (k-diffusion / EDM).
    ALL.add(Euler.INFO);
    ALL.add(Heun.INFO);
    // -- block: more sigma-space ODE samplers (rk4, rk45, dpm2, lms) --
    ALL.add(org.diffusion4j.sampling.ode.Rk4.INFO);
    ALL.add(org.diffusion4j.sampling.ode.Rk45.INFO);
    ALL.add(org.diffusion4j.sampling.ode.Dpm2.INFO);
    ALL.add(org.diffusion4j.sampling.ode.Lms.INFO);
    // -- end block --

    // -- block: exponential integrators (ddim, deis, dpm-solver*) --
    ALL.add(org.diffusion4j.sampling.ode.Ddim.INFO);
    ALL.add(org.diffusion4j.sampling.ode.Deis.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolver.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverFast.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverAdaptive.INFO);
    ALL.add(org.diffusion4j.sampling.ode.ExponentialHeun.INFO);
    // Parallel in time: Picard iterations, a window of grid points per batched call.
    ALL.add(org.diffusion4j.sampling.ode.ParaDigms.INFO);
    ALL.add(org.diffusion4j.sampling.ode.Pndm.INFO);

    // -- end block --

    // -- block: DPM-Solver++ family and UniPC --
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverPlusPlus2S.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverPlusPlus2M.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverPlusPlus3M.INFO);
    ALL.add(org.diffusion4j.sampling.ode.UniPc.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverMultistep.INFO);
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverSinglestep.INFO);

    // -- end block --

    // -- block: DPM-Solver-v3 (empirical model statistics) --
    ALL.add(org.diffusion4j.sampling.ode.DpmSolverV3.INFO);
    // -- end block --

    // -- block: SDE samplers --
    // k-diffusion / EDM stochastic samplers
    ALL.add(org.diffusion4j.sampling.sde.EulerAncestral.INFO);
    ALL.add(org.diffusion4j.sampling.sde.EdmStochastic.INFO);
    ALL.add(org.diffusion4j.sampling.sde.DpmSolverPlusPlus2SAncestral.INFO);
    ALL.add(org.diffusion4j.sampling.sde.DpmSolverPlusPlusSde.INFO);
    ALL.add(org.diffusion4j.sampling.sde.DpmSolverPlusPlus2MSde.INFO);
    ALL.add(org.diffusion4j.sampling.sde.DpmSolverPlusPlus3MSde.INFO);

    // reverse-SDE, DDPM and Langevin samplers
    ALL.add(EulerMaruyama.INFO);
    ALL.add(org.diffusion4j.sampling.sde.ReverseSdeFamily.INFO);
    ALL.add(DdpmAncestral.INFO);
    ALL.add(PredictorCorrector.INFO);
    ALL.add(AnnealedLangevin.INFO);
    // -- end block --
  }

  private SamplerRegistry() {}

  /** All samplers, in listing order. */
  public static List<SamplerInfo> all() {
    return Collections.unmodifiableList(ALL);
  }

  /** The sampler with this identifier; the error lists the accepted ones. */
  public static SamplerInfo get(String id) {
    for (SamplerInfo s : ALL) {
      if (s.id().equals(id)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown sampler '" + id + "'; accepted: "
        + ALL.stream().map(SamplerInfo::id).collect(Collectors.joining(", ")));
  }

  /** Builds sampler {@code id} with parameters {@code params} (names as in {@code d4j samplers}). */
  public static Sampler create(String id, Map<String, String> params) {
    return get(id).create(params);
  }
}
