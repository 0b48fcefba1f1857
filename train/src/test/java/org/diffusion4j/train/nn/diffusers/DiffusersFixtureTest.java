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
    DiscreteDdpm p = model.process();
    Grid g = new GridSpec.Timesteps("leading", 0, false).build(p, 10);
    assertTrue(rel("loop_ddim_eta0_leading_10.npy", model.denoiser(), new Ddim(0), g) < 1e-3);
  }

  @Test
  void dpmSolverLeadingEndsAtTheFirstTimestepWithAFirstOrderStep() throws IOException {
    DiscreteDdpm p = model.process();
    long[] ts = new GridSpec.Timesteps("leading", 0, true).timesteps(p.trainSteps(), 10);
    double[] t = new double[ts.length + 1];
    for (int i = 0; i < ts.length; i++) {
      t[i] = ts[i];
    }
    t[ts.length] = 0; // diffusers 0.25 ends DPMSolverMultistep at σ(t = 0), not at σ = 0
    Grid g = Grid.ofTimes(p, t);
    assertTrue(rel("loop_dpmpp_2m_leading_10.npy", model.denoiser(), new UniPc(2, "bh2", true, false), g) < 1e-3);
  }

  @Test
  void dpmSolverKarrasIsDpmpp2mOnKarrasSigmasWithRoundedTimesteps() throws IOException {
    DiscreteDdpm p = model.process();
    Grid k = GridSpec.karras(p.sigma(0), p.sigma(p.tMax()), 7).build(p, 12);
    Grid g = Grid.ofSigmas(p, Arrays.copyOf(k.sigmas(), 12)); // ends at σ_min: the 12th step is a no-op
    assertTrue(rel("loop_dpmpp_2m_karras_12.npy", model.denoiser(TimestepMapping.ROUNDED), new DpmSolverPlusPlus2M(),
        g) < 1e-3);
  }

  @Test
  void eulerLinspaceInterpolatesSigmaLinearly() throws IOException {
    DiscreteDdpm p = model.process();
    double[] table = p.sigmas();
    double[] sg = new double[16];
    for (int i = 0; i < 15; i++) {
      float t = (float) (999.0 * (14 - i) / 14);
      int lo = (int) Math.floor(t);
      double w = t - lo;
      sg[i] = lo >= 999 ? table[999] : (1 - w) * table[lo] + w * table[lo + 1];
    }
    Grid g = Grid.ofSigmas(p, sg);
    assertTrue(rel("loop_euler_linspace_15.npy", model.denoiser(TimestepMapping.LINEAR), new Euler(), g) < 1e-3);
  }
}
