package org.diffusion4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDataTest {
  @TempDir Path dir;

  private static void assertMessage(String spec, DataOptions o, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSources.parse(spec, o));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
    }
  }

  /** A w×h image, red on the left (or top) half and blue on the other. */
  private static BufferedImage halves(int w, int h, boolean vertical) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.BLUE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.RED);
    g.fillRect(0, 0, vertical ? w / 2 : w, vertical ? h : h / 2);
    g.dispose();
    return img;
  }

  @Test
  void imagesAreResizedCentreCroppedAndScaled() throws Exception {
    Path d = Files.createDirectory(dir.resolve("img"));
    ImageIO.write(halves(80, 40, true), "png", d.resolve("a.png").toFile());
    ImageIO.write(halves(40, 80, false), "jpg", Files.createDirectory(d.resolve("sub")).resolve("b.JPG").toFile());
    DataSource s = DataSources.parse("images:" + d, DataOptions.defaults().withResolution(8));
    assertArrayEquals(new long[] {3, 8, 8}, s.sampleShape());
    assertEquals(2, s.size());
    // Wide 80×40 → 16×8, crop columns 4..11: red in columns 0..3, blue in 4..7.
    // Tall 40×80 → 8×16, crop rows 4..11: red in rows 0..3, blue in rows 4..7 (JPEG: looser tolerance).
    DataSource.HostBatch b = s.sample(20, new SplittableRandom(1));
    int wide = 0;
    for (int i = 0; i < 20; i++) {
      float[] x = java.util.Arrays.copyOfRange(b.x(), i * 192, (i + 1) * 192);
      int red = 0;
      int blue = 128;
      if (x[red + 1 * 8 + 6] < 0) {
        wide++;
        assertEquals(1, x[red + 6 * 8 + 1], 0.02);   // row 6, column 1: red
        assertEquals(-1, x[red + 1 * 8 + 6], 0.02);  // row 1, column 6: blue
        assertEquals(1, x[blue + 1 * 8 + 6], 0.02);
      } else {
        assertEquals(1, x[red + 1 * 8 + 6], 0.1);    // row 1: red
        assertEquals(-1, x[red + 6 * 8 + 1], 0.1);   // row 6: blue
        assertEquals(1, x[blue + 6 * 8 + 1], 0.1);
      }
    }
    assertTrue(wide > 0 && wide < 20, "both images drawn");
    for (float v : b.x()) {
      assertTrue(v >= -1 && v <= 1);
    }
  }

  @Test
  void flipMirrorsSomeSamplesAndGreyFoldersGiveOneChannel() throws Exception {
    Path d = Files.createDirectory(dir.resolve("grey"));
    BufferedImage g = new BufferedImage(4, 4, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        g.getRaster().setSample(x, y, 0, x == 0 ? 255 : 0);
      }
    }
    ImageIO.write(g, "png", d.resolve("g.png").toFile());
    DataSource s = DataSources.parse("images:" + d, DataOptions.defaults().withResolution(4).withFlip(true));
    assertArrayEquals(new long[] {1, 4, 4}, s.sampleShape());
    DataSource.HostBatch b = s.sample(64, new SplittableRandom(5));
    int flipped = 0;
    for (int i = 0; i < 64; i++) {
      float left = b.x()[i * 16];
      float right = b.x()[i * 16 + 3];
      assertEquals(2, Math.abs(left - right), 1e-6); // stored levels, not gamma-converted
      flipped += right > left ? 1 : 0;
    }
    assertTrue(flipped > 16 && flipped < 48, "flipped " + flipped + " of 64");
  }

  @Test
  void badImageFoldersAreNamed() throws Exception {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertMessage("images:" + empty, DataOptions.defaults(), empty.toString(), "no .png");
    Path bad = Files.createDirectory(dir.resolve("bad"));
    Files.writeString(bad.resolve("x.png"), "this is not a png");
    assertMessage("images:" + bad, DataOptions.defaults(), "x.png", "unreadable image");
  }

  @Test
  void npyAndNpzArraysWithScaling() throws Exception {
    Path f = dir.resolve("p.npy");
    Npy.write(f, new double[] {0, 10, 2, 4, 6, 8}, new long[] {3, 2}, false);
    DataSource s = DataSources.parse("npy:" + f, DataOptions.defaults().withScaling(DataOptions.Scaling.MINUS_ONE_ONE));
    assertArrayEquals(new long[] {2}, s.sampleShape());
    assertEquals(new DataSource.Affine(0.2, -1), s.scaling());
    float[] x = s.sample(30, new SplittableRandom(2)).x();
    for (int i = 0; i < x.length; i += 2) {
      assertTrue(java.util.Set.of(-1f, -0.6f, 0.2f).contains(Math.round(x[i] * 10) / 10f), "x = " + x[i]);
    }
    assertEquals(DataSource.Affine.IDENTITY, DataSources.parse("npy:" + f).scaling());

    Path z = dir.resolve("d.npz");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(z))) {
      out.putNextEntry(new ZipEntry("x.npy"));
      out.write(Npy.encode(new double[] {1, 2, 3, 4}, new long[] {2, 2}, true));
      out.putNextEntry(new ZipEntry("y.npy"));
      out.write(Npy.encode(new double[] {5, 6, 7}, new long[] {3}, true));
    }
    DataSource y = DataSources.parse("npz:" + z + ":y");
    assertArrayEquals(new long[] {1}, y.sampleShape());
    assertEquals(3, y.size());
    assertArrayEquals(new long[] {2}, DataSources.parse("npz:" + z + ":x").sampleShape());
    assertMessage("npz:" + z, DataOptions.defaults(), z.toString(), "arr_0", "[x, y]");
    Files.writeString(dir.resolve("n.npz"), "not a zip");
    assertMessage("npz:" + dir.resolve("n.npz"), DataOptions.defaults(), "n.npz");
    Files.write(dir.resolve("t.npy"), java.util.Arrays.copyOf(Npy.encode(new double[] {1, 2}, new long[] {2}, false), 130));
    assertMessage("npy:" + dir.resolve("t.npy"), DataOptions.defaults(), "t.npy", "truncated");
    assertMessage("npy:" + dir.resolve("missing.npy"), DataOptions.defaults(), "missing.npy");
  }

  @Test
  void csvWithOptionalHeaderAndClearErrors() throws Exception {
    Path c = dir.resolve("pts.csv");
    Files.writeString(c, "x,y\n1.5,2\n-3, 4e-1\n\n5,6\n");
    DataSource s = DataSources.parse("csv:" + c);
    assertArrayEquals(new long[] {2}, s.sampleShape());
    assertEquals(3, s.size());
    Files.writeString(c, "1,2\n3,4\n");
    assertEquals(2, DataSources.parse("csv:" + c).size());
    Files.writeString(c, "1,2\n3,abc\n");
    assertMessage("csv:" + c, DataOptions.defaults(), "pts.csv:2", "non-numeric", "abc");
    Files.writeString(c, "1,2\n3,4,5\n");
    assertMessage("csv:" + c, DataOptions.defaults(), "pts.csv:2", "3 columns");
    Files.writeString(c, "a,b\n");
    assertMessage("csv:" + c, DataOptions.defaults(), "pts.csv", "no numeric rows");
  }

  @Test
  void csvFirstRowWithAnEmptyOrMistypedFieldIsAnErrorNotAHeader() throws Exception {
    Path c = dir.resolve("bad.csv");
    String[][] cases = {
      {"1,,2\n3,4,5\n", "bad.csv:1: column 2 is empty"},
      {"2x,3\n1,2\n", "bad.csv:1: column 1: non-numeric value '2x'"},
      {"# comment\n\n1,2\n3,2x\n", "bad.csv:4: column 2: non-numeric value '2x'"},
      {"x,y\n1,2\nx,y\n", "bad.csv:3: column 1: non-numeric value 'x'"},
      {"x,y\n1,2,\n", "bad.csv:2: column 3 is empty"},
      {"0x10,1\n", "bad.csv:1: column 1: non-numeric value '0x10'"},
      {"1d,1\n", "bad.csv:1: column 1: non-numeric value '1d'"},
      {"1e999,1\n", "bad.csv:1: column 1: value '1e999' overflows"},
    };
    for (String[] k : cases) {
      Files.writeString(c, k[0]);
      assertMessage("csv:" + c, DataOptions.defaults(), k[1]);
    }
    // A header is a row with no numeric field: then the data follows.
    Files.writeString(c, "x; y\n1;2\n+3 .5\n");
    assertEquals(2, DataSources.parse("csv:" + c).size());
  }

  @Test
  void gaussianMixtureJson() throws Exception {
    Path j = dir.resolve("g.json");
    Files.writeString(j, "{\"type\":\"gaussian-mixture\",\"weights\":[1],\"means\":[[3,-1,0]],\"stds\":[0.5]}");
    DataSource s = DataSources.parse("gmm:" + j);
    assertArrayEquals(new long[] {3}, s.sampleShape());
    float[] x = s.sample(4000, new SplittableRandom(4)).x();
    double m = 0;
    for (int i = 0; i < x.length; i += 3) {
      m += x[i];
    }
    assertEquals(3, m / 4000, 0.05); // standard error 0.5/√4000 ≈ 0.008
    Files.writeString(j, "{\"weights\":[1]}");
    assertMessage("gmm:" + j, DataOptions.defaults(), "g.json");
    assertMessage("gmm:" + dir.resolve("none.json"), DataOptions.defaults(), "none.json");
  }
}
