package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.io.Npy;
import org.diffusion4j.sampling.SavedGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code d4j grid --optimize … --save NAME}, then {@code d4j sample --grid NAME} / {@code --grid file:PATH}. */
class SavedGridCliTest {
  private static final String MIX = "../examples/gmm2d.json";

  @Test
  void optimiseSaveAndSampleByNameOrFile(@TempDir Path dir) throws Exception {
    Path grids = dir.resolve("grids");
    Cli.Run o = Cli.run("grid", "--optimize", "--model", MIX, "--sampler", "unipc", "--steps", "4", "--save", "mix4",
        "--grids-dir", grids.toString(), "--calibration", "8", "--evaluations", "40");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("saved") && o.out().contains("NFE 4"), o.out());
    SavedGrid g = SavedGrid.load(grids.resolve("mix4.json"));
    assertEquals("unipc", g.sampler());
    assertEquals("edm", g.process());
    Path a = dir.resolve("a.npy");
    Path b = dir.resolve("b.npy");
    Cli.Run s = Cli.run("sample", "--model", MIX, "--grid", "mix4", "--grids-dir", grids.toString(), "--seeds", "0-7",
        "--out", a.toString(), "--no-check");
    assertEquals(0, s.code(), s.err());
    assertTrue(s.out().startsWith("unipc") && s.out().contains("NFE       4"), s.out());
    Cli.Run f = Cli.run("sample", "--model", MIX, "--grid", "file:" + grids.resolve("mix4.json"), "--sampler",
        "unipc", "--seeds", "0-7", "--out", b.toString(), "--no-check");
    assertEquals(0, f.code(), f.err());
    assertArrayEquals(Npy.read(a).data(), Npy.read(b).data(), 0);
    Cli.Run missing = Cli.run("sample", "--model", MIX, "--grid", "nope", "--grids-dir", grids.toString(), "--out",
        dir.resolve("c.npy").toString());
    assertEquals(2, missing.code());
    assertTrue(missing.err().contains("no saved grid 'nope'") && missing.err().contains("saved there: mix4"),
        missing.err());
    Cli.Run other = Cli.run("sample", "--model", MIX, "--process", "vp", "--grid", "mix4", "--grids-dir",
        grids.toString(), "--out", dir.resolve("c.npy").toString());
    assertEquals(2, other.code());
    assertTrue(other.err().contains("process edm") && other.err().contains("process vp"), other.err());
    Cli.Run steps = Cli.run("sample", "--model", MIX, "--grid", "mix4", "--grids-dir", grids.toString(), "--steps", "9",
        "--out", dir.resolve("c.npy").toString());
    assertEquals(2, steps.code());
    assertTrue(steps.err().contains("--steps 9"), steps.err());
    Cli.Run badName = Cli.run("grid", "--optimize", "--model", MIX, "--steps", "3", "--save", "../x", "--grids-dir",
        grids.toString());
    assertEquals(2, badName.code());
    assertTrue(badName.err().contains("'../x'"), badName.err());
    assertTrue(Files.exists(grids.resolve("mix4.json")));
  }
}
