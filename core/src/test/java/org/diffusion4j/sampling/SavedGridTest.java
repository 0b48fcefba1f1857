package org.diffusion4j.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.process.Edm;
import org.diffusion4j.process.VpLinear;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;
import org.diffusion4j.testing.Oracle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedGridTest {
  @TempDir
  Path dir;

  /** σ's with many significant digits (a fitted grid's are arbitrary doubles). */
  private static Grid fitted() {
    return Grid.ofSigmas(Edm.DEFAULT, 80, 4.672910384756121, 0.7449371028467193, 0.24913347700000001,
        Math.nextUp(0.09), 0);
  }

  @Test
  void saveThenLoadIsExactAndSamplesAsTheSameSigmas() throws Exception {
    Sampler unipc = SamplerRegistry.create("unipc", Map.of());
    SavedGrid g = SavedGrid.of("mix-unipc-5", fitted(), unipc, Map.of(), Map.of("model", "gmm2d.json",
        "error", "0.0456"));
    assertEquals(5, g.nfe());
    Path file = g.save(dir);
    assertEquals(dir.resolve("mix-unipc-5.json"), file);
    SavedGrid back = SavedGrid.resolve("mix-unipc-5", dir);
    assertArrayEquals(fitted().sigmas(), back.sigmas(), 0);
    for (int i = 0; i < back.sigmas().length; i++) {
      assertEquals(Double.doubleToLongBits(fitted().sigma(i)), Double.doubleToLongBits(back.sigmas()[i]));
    }
    assertEquals("edm", back.process());
    assertEquals("unipc", back.sampler());
    assertEquals(Map.of("model", "gmm2d.json", "error", "0.0456"), back.provenance());
    assertEquals(back.sigmas().length, SavedGrid.resolve("file:" + file, dir).sigmas().length);
    GaussianMixture gm = Oracle.mixture();
    Grid a = back.grid(Edm.DEFAULT);
    double[] x = Oracle.prior(a, Oracle.normals(8, 2));
    double[] viaSaved = Oracle.run(back.createSampler(), gm.denoiser(), a, x, 2, DataType.FLOAT64,
        NoiseSource.NONE).x();
    double[] direct = Oracle.run(unipc, gm.denoiser(), fitted(), x, 2, DataType.FLOAT64, NoiseSource.NONE).x();
    assertArrayEquals(direct, viaSaved, 0);
    assertEquals(List.of("mix-unipc-5"), SavedGrid.names(dir));
  }

  @Test
  void badNamesMissingNamesBadFilesAndOtherProcessesAreClearErrors() throws Exception {
    SavedGrid.of("a", fitted(), new org.diffusion4j.sampling.ode.Euler(), Map.of(), Map.of()).save(dir);
    String e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.resolve("missing", dir)).getMessage();
    assertTrue(e.contains("missing") && e.contains(dir.toString()) && e.contains("saved there: a"), e);
    e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.resolve("../x", dir)).getMessage();
    assertTrue(e.contains("'../x'"), e);
    e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.resolve("x", dir.resolve("none"))).getMessage();
    assertTrue(e.contains("holds none"), e);
    Path bad = Files.writeString(dir.resolve("bad.json"), "{\"name\": \"bad\", \"sigmas\": [1, 2]}");
    e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.load(bad)).getMessage();
    assertTrue(e.contains("bad.json") && e.contains("not a saved grid"), e);
    Path up = Files.writeString(dir.resolve("up.json"), SavedGrid.of("up", fitted(),
        new org.diffusion4j.sampling.ode.Euler(), Map.of(), Map.of()).toJson().replace("0.7449371028467193", "90"));
    e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.load(up)).getMessage();
    assertTrue(e.contains("strictly decreasing"), e);
    e = assertThrows(IllegalArgumentException.class, () -> SavedGrid.load(dir.resolve("nofile.json"))).getMessage();
    assertTrue(e.contains("does not exist"), e);
    SavedGrid a = SavedGrid.resolve("a", dir);
    e = assertThrows(IllegalArgumentException.class, () -> a.grid(VpLinear.DEFAULT)).getMessage();
    assertTrue(e.contains("process edm") && e.contains("process vp"), e);
    Grid vp = GridSpec.karras().build(VpLinear.DEFAULT, 4);
    assertEquals(vp.sigmas().length, SavedGrid.of("v", vp, new org.diffusion4j.sampling.ode.Euler(), Map.of(),
        Map.of()).grid(VpLinear.DEFAULT).size());
  }
}
