package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.diffusion4j.sampling.ParamSpec;
import org.diffusion4j.sampling.SamplerInfo;
import org.diffusion4j.sampling.SamplerRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplersAndDemoTest {
  @Test
  void samplersListsEverySamplerWithKindAndParameters() {
    Cli.Run r = Cli.run("samplers");
    assertEquals(0, r.code(), r.err());
    for (SamplerInfo s : SamplerRegistry.all()) {
      assertTrue(r.out().contains(s.id() + " ") && r.out().contains(s.summary()), s.id() + " missing:\n" + r.out());
      for (ParamSpec p : s.params()) {
        assertTrue(r.out().contains("--param " + p.name() + "=" + p.defaultValue()), p.name() + " of " + s.id());
      }
    }
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("heun ") && l.contains(" ODE ")), r.out());
  }

  @Test
  void demoWritesPictureAndReport(@TempDir Path dir) throws Exception {
    // A tiny training budget: the path is exercised; the quality of the full demo is a benchmark.
    Cli.Run r = Cli.run("demo", "--out", dir.toString(), "--samples", "40", "--train-steps", "20",
        "--train-samples", "200", "--quiet");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("| euler |") && r.out().contains("| heun |"), r.out());
    String report = Files.readString(dir.resolve("report.md"));
    assertTrue(report.contains("| sampler | 5 steps | 10 steps | 20 steps | 50 steps |"), report);
    // Heun at 50 steps (99 NFE) must be far more accurate than Euler at 5 steps.
    assertTrue(report.contains("(99) |"), report);
    assertTrue(report.contains("## 1. A model trained on the JVM") && report.contains("| heun | 18 |"), report);
    for (String png : new String[] {"demo.png", "exact.png"}) {
      BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
      assertTrue(img != null && img.getWidth() > 1000, png);
    }
    assertTrue(Files.exists(dir.resolve("run").resolve("ema.safetensors")), "the trained run is kept");
  }

  @Test
  void noCommandIsAUsageError() {
    Cli.Run r = Cli.run();
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("d4j: error: missing command"), r.err());
  }
}
