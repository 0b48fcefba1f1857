package org.diffusion4j.train.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;
import org.diffusion4j.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Class labels of every labelled data kind reach the batches with their samples. */
class LabelledDataTest {
  @TempDir Path dir;

  private static BufferedImage grey(int v) {
    BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        img.getRaster().setSample(x, y, 0, v);
      }
    }
    return img;
  }

  @Test
  void imageFoldersWithOneSubFolderPerClass() throws Exception {
    Path d = dir.resolve("pets");
    Files.createDirectories(d.resolve("cat"));
    Files.createDirectories(d.resolve("dog").resolve("big"));
    ImageIO.write(grey(0), "png", d.resolve("cat").resolve("a.png").toFile());
    ImageIO.write(grey(0), "png", d.resolve("cat").resolve("b.png").toFile());
    ImageIO.write(grey(255), "png", d.resolve("dog").resolve("big").resolve("c.png").toFile());
    DataSource s = DataSources.parse("images:" + d, DataOptions.defaults().withResolution(8));
    assertTrue(s.hasLabels());
    assertEquals(2, s.classes());
    assertTrue(s.describe().contains("0=cat, 1=dog"), s.describe());
    DataSource.HostBatch b = s.sample(40, new SplittableRandom(1));
    for (int i = 0; i < 40; i++) {
      // cat images are black (−1), dog images white (+1).
      assertEquals(b.labels()[i] == 0 ? -1f : 1f, b.x()[i * 64], 1e-6f, "sample " + i);
    }
    // An image directly in the folder: unlabelled.
    ImageIO.write(grey(9), "png", d.resolve("loose.png").toFile());
    assertFalse(DataSources.parse("images:" + d, DataOptions.defaults().withResolution(8)).hasLabels());
  }

  @Test
  void csvLabelColumnAndNpzLabelsArray() throws Exception {
    Path c = dir.resolve("pts.csv");
    Files.writeString(c, "x,label,y\n1.5,0,2\n-3,2,0.4\n5,1,6\n");
    DataSource s = DataSources.parse("csv:" + c);
    assertEquals(3, s.classes());
    assertEquals(2, s.sampleShape()[0]);
    DataSource.HostBatch b = s.sample(30, new SplittableRandom(3));
    for (int i = 0; i < 30; i++) {
      float x = b.x()[2 * i];
      assertEquals(x == 1.5f ? 0 : x == -3f ? 2 : 1, b.labels()[i], "sample " + i);
    }
    Files.writeString(c, "x,class\n1,0.5\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSources.parse("csv:" + c));
    assertTrue(e.getMessage().contains("label 0.5") && e.getMessage().contains("class number"), e.getMessage());
    Files.writeString(c, "1,2\n3,4\n");
    assertFalse(DataSources.parse("csv:" + c).hasLabels());

    Path z = dir.resolve("d.npz");
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(z))) {
      out.putNextEntry(new ZipEntry("x.npy"));
      out.write(Npy.encode(new double[] {1, 2, 3, 4, 5, 6}, new long[] {3, 2}, true));
      out.putNextEntry(new ZipEntry("labels.npy"));
      out.write(Npy.encode(new double[] {1, 0, 1}, new long[] {3}, false));
    }
    DataSource n = DataSources.parse("npz:" + z);
    assertEquals(2, n.classes());
    DataSource.HostBatch nb = n.sample(20, new SplittableRandom(4));
    for (int i = 0; i < 20; i++) {
      assertEquals(nb.x()[2 * i] == 3f ? 0 : 1, nb.labels()[i]);
    }
    try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(z))) {
      out.putNextEntry(new ZipEntry("x.npy"));
      out.write(Npy.encode(new double[] {1, 2, 3, 4}, new long[] {2, 2}, true));
      out.putNextEntry(new ZipEntry("labels.npy"));
      out.write(Npy.encode(new double[] {1, 0, 1}, new long[] {3}, false));
    }
    e = assertThrows(IllegalArgumentException.class, () -> DataSources.parse("npz:" + z));
    assertTrue(e.getMessage().contains("3 labels for 2 samples"), e.getMessage());
  }

  @Test
  void mixturesAreLabelledByComponentOrByTheirJsonLabels() throws Exception {
    GaussianMixture g = new GaussianMixture(new double[] {1, 1, 1}, new double[][] {{-5}, {0}, {5}},
        new double[] {0.1, 0.1, 0.1});
    Path f = dir.resolve("g.json");
    Files.writeString(f, new LabelledMixture(g, new int[] {0, 1, 0}).toJson());
    DataSource s = DataSources.parse("gmm:" + f);
    assertEquals(2, s.classes());
    DataSource.HostBatch b = s.sample(50, new SplittableRandom(5));
    for (int i = 0; i < 50; i++) {
      assertEquals(Math.abs(b.x()[i]) > 2.5 ? 0 : 1, b.labels()[i], "x = " + b.x()[i]);
    }
    Files.writeString(f, g.toJson());
    assertEquals(3, DataSources.parse("gmm:" + f).classes());
    assertEquals(8, DataSources.parse("demo").classes());
    assertNull(DataSources.parse("two-moons").sample(2, new SplittableRandom(1)).labels());
  }
}
