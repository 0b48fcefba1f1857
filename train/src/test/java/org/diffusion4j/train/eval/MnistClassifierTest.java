package org.diffusion4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.nn.MnistCnn;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class MnistClassifierTest {
  private static Path mnist() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path c = p.resolve("shared").resolve("data").resolve("mnist");
      if (Files.isDirectory(c)) {
        return c;
      }
    }
    return Path.of("../../shared/data/mnist");
  }

  @Test
  void shippedClassifierReaches99PercentOnTheTestSetAndRecordsItsProvenance() {
    Path dir = mnist();
    Assumptions.assumeTrue(Files.isDirectory(dir), "real MNIST not present at " + dir);
    DataSource test = DataSources.parse("mnist:" + dir + ":test");
    DataSource.HostBatch b = test.first(10_000, 0);
    try (MnistClassifier c = MnistClassifier.shipped()) {
      double acc = c.accuracy(b.x(), b.labels());
      assertTrue(acc >= 0.99, "accuracy on the 10 000 test images " + acc);
      double recorded = Double.parseDouble(c.metadata().get("test_accuracy"));
      assertTrue(recorded >= 0.99, "recorded accuracy " + recorded);
      assertTrue(c.metadata().get("command").matches("d4j train-(classifier|feature-net) .*"), c.metadata().toString());
      MnistClassifier.Output o = c.apply(java.util.Arrays.copyOf(b.x(), 784 * 4));
      assertEquals(4 * MnistCnn.FEATURES, o.features().length);
      for (int i = 0; i < 4; i++) {
        double s = 0;
        for (int k = 0; k < 10; k++) {
          s += o.probabilities()[i * 10 + k];
        }
        assertEquals(1, s, 1e-5);
      }
      for (double f : o.features()) {
        assertTrue(f >= 0 && Double.isFinite(f), "ReLU features are finite and >= 0");
      }
      assertThrows(IllegalArgumentException.class, () -> c.apply(new float[100]));
    }
  }
}
