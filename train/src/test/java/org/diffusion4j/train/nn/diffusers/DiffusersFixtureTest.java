package org.diffusion4j.train.nn.diffusers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import org.diffusion4j.io.NpyArray;
import org.diffusion4j.process.DiscreteDdpm;
import org.diffusion4j.sampling.Sampler;
import org.diffusion4j.sampling.Sampling;
import org.diffusion4j.sampling.ode.Ddim;
import org.diffusion4j.sampling.ode.DpmSolverPlusPlus2M;
import org.diffusion4j.sampling.ode.Euler;
import org.diffusion4j.sampling.ode.UniPc;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.train.loop.Safetensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The diffusers v0.25 fixture: a real UNet2DModel directory, its forward pass and four scheduler loops. */
class DiffusersFixtureTest {
  private static DiffusersModel model;

  @BeforeAll
  static void load() throws IOException {
    model = DiffusersModel.load(Fixture.dir());
  }

  @AfterAll
  static void close() {
    if (model != null) {
      model.close();
    }
  }

  @Test
  void everyTensorIsAParameterAndTheCountsAreDiffusers() throws IOException {
    Map<String, ?> file = Safetensors.read(Fixture.dir().resolve("unet/diffusion_pytorch_model.safetensors")).tensors();
    assertEquals(144, file.size());
    assertEquals(file.keySet(), model.unet().namedParameters().keySet());
    assertEquals(702_499, model.unet().parameterCount());
  }

  @Test
  void forwardMatchesDiffusersToFloatRoundOff() throws IOException {
    NpyArray x = Fixture.expected("forward_x.npy");
    NpyArray want = Fixture.expected("forward_out.npy");
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray in = m.create(x.data(), new Shape(x.shape())).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
      double[] out = model.unet().apply(new ParameterStore(m, false), in, new double[] {0, 417, 999}, null, false)
          .toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
      double rel = Fixture.relative(out, want.data());
      System.out.printf("forward: max relative error %.2e%n", rel);
      assertTrue(rel < 1e-4, "forward relative error " + rel);
    }
  }

  /** Runs a loop from loop_init_noise (process coordinates = diffusers' latents) and returns x at the grid's end. */
  private static double rel(String file, DiffusersDenoiser d, Sampler s, Grid g) throws IOException {
    NpyArray init = Fixture.expected("loop_init_noise.npy");
    NpyArray want = Fixture.expected(file);
    Sampling.Result r = Sampling.of(d, 3, 8, 8).sampler(s).grid(g).seeds(0, 3).initial(init.data()).run();
    double[] x = r.samples().clone();
    double sEnd = g.s(g.size() - 1);
    for (int i = 0; i < x.length; i++) {
      x[i] *= sEnd; // diffusers returns the state in VP coordinates
    }
    double e = Fixture.relative(x, want.data());
    System.out.printf("%s: max relative error %.2e%n", file, e);
    return e;
  }

  @Test
  void ddimLeadingIsOurDdimOnTheLeadingGrid() throws IOException {
    Grid g = DiffusersGrids.ddim(model.process(), 10, "leading", 0);
    assertEquals(new GridSpec.Timesteps("leading", 0, false).build(model.process(), 10).toString(), g.toString());
    assertTrue(rel("loop_ddim_eta0_leading_10.npy", model.denoiser(), new Ddim(0), g) < 1e-4);
  }

  @Test
  void dpmSolverLeadingEndsAtTheFirstTimestepWithAFirstOrderStep() throws IOException {
    Grid g = DiffusersGrids.dpmSolverMultistep(model.process(), 10, "leading", 0);
    assertEquals(90, g.t(9));
    assertEquals(0, g.t(10)); // diffusers 0.25 ends DPMSolverMultistep at σ(t = 0), not at σ = 0
    assertTrue(rel("loop_dpmpp_2m_leading_10.npy", model.denoiser(), new UniPc(2, "bh2", true, false), g) < 1e-4);
    // The command line's grid (σ = 0 at the end) and plain dpmpp-2m: the σ(0) noise diffusers leaves is the difference.
    Grid cli = new GridSpec.Timesteps("leading", 0, true).build(model.process(), 10);
    double e = rel("loop_dpmpp_2m_leading_10.npy", model.denoiser(), new DpmSolverPlusPlus2M(), cli);
    assertTrue(e > 1e-5 && e < 1e-3, "--grid leading --drop-last: " + e);
  }

  @Test
  void dpmSolverKarrasIsDpmpp2mOnKarrasSigmasWithRoundedTimesteps() throws IOException {
    Grid g = DiffusersGrids.dpmSolverMultistepKarras(model.process(), 12);
    assertEquals(12, g.size()); // ends at σ_min: diffusers' 12th step is a no-op
    assertTrue(rel("loop_dpmpp_2m_karras_12.npy", model.denoiser(TimestepMapping.ROUNDED), new DpmSolverPlusPlus2M(),
        g) < 1e-4);
    // Continuous timesteps instead of diffusers' rounded ones cost an order of magnitude.
    double e = rel("loop_dpmpp_2m_karras_12.npy", model.denoiser(), new DpmSolverPlusPlus2M(), g);
    assertTrue(e > 1e-4, "continuous timesteps: " + e);
  }

  @Test
  void eulerLinspaceInterpolatesSigmaLinearlyAtFractionalTimesteps() throws IOException {
    DiscreteDdpm p = model.process();
    Grid g = DiffusersGrids.euler(p, 15, "linspace", 0);
    assertEquals(927.643, new DiffusersDenoiser(model.unet(), p, SchedulerConfig.Prediction.EPSILON,
        TimestepMapping.LINEAR, Double.NaN).timestep(g.sigma(1)), 1e-3);
    assertTrue(rel("loop_euler_linspace_15.npy", model.denoiser(TimestepMapping.LINEAR), new Euler(), g) < 1e-4);
    // --grid linspace rounds the timesteps (DDIM's convention): that alone moves the result past 1e-3.
    Grid rounded = new GridSpec.Timesteps("linspace", 0, false).build(p, 15);
    assertTrue(rel("loop_euler_linspace_15.npy", model.denoiser(TimestepMapping.LINEAR), new Euler(), rounded) > 1e-3);
  }
}
