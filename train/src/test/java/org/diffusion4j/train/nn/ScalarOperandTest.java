package org.diffusion4j.train.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.train.loop.Trainer;
import org.junit.jupiter.api.Test;

/**
 * No code that may run under a gradient collector calls DJL's {@code NDArray} arithmetic with a Java
 * {@code Number} operand whose backward pass reads that operand ({@code mul}, {@code div}, {@code pow},
 * {@code maximum}, {@code minimum}, {@code rdiv}, {@code rpow} and their in-place forms): DJL frees
 * the operand's memory while autograd still holds it (see {@link BackwardAfterCollectionTest}); use
 * {@link org.diffusion4j.tensor.Scalars}. Checked on the compiled classes: every class of the train
 * module, and core's denoiser, guidance and likelihood packages (denoisers, guidance and traces are
 * differentiated; samplers and schedules run without gradients and may use DJL's overloads).
 */
class ScalarOperandTest {
  private static final Set<String> UNSAFE = Set.of("mul", "div", "pow", "maximum", "minimum", "rdiv", "rpow",
      "muli", "divi", "powi", "maximumi", "minimumi", "rdivi", "rpowi");
  private static final String NUMBER_OVERLOAD = "(Ljava/lang/Number;)Lai/djl/ndarray/NDArray;";

  /** The NDArray methods a class file references with a Number operand, by name. */
  static List<String> numberOverloads(byte[] classFile) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    in.readInt();
    in.readUnsignedShort();
    in.readUnsignedShort();
    int n = in.readUnsignedShort();
    String[] utf = new String[n];
    int[] classNames = new int[n];
    int[][] refs = new int[n][];
    int[][] nameTypes = new int[n][];
    for (int i = 1; i < n; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf[i] = in.readUTF();
        case 3, 4 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++;
        }
        case 7 -> classNames[i] = in.readUnsignedShort();
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 9, 10, 11 -> refs[i] = new int[] {tag, in.readUnsignedShort(), in.readUnsignedShort()};
        case 12 -> nameTypes[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        case 17, 18 -> {
          in.readUnsignedShort();
          in.readUnsignedShort();
        }
        default -> throw new IOException("unknown constant-pool tag " + tag);
      }
    }
    List<String> found = new ArrayList<>();
    for (int[] r : refs) {
      if (r == null || r[0] == 9) {
        continue;
      }
      String owner = utf[classNames[r[1]]];
      int[] nt = nameTypes[r[2]];
      if ("ai/djl/ndarray/NDArray".equals(owner) && UNSAFE.contains(utf[nt[0]]) && NUMBER_OVERLOAD.equals(utf[nt[1]])) {
        found.add(utf[nt[0]]);
      }
    }
    return found;
  }

  /** Class files under {@code root} (a directory or a jar) whose path starts with one of the prefixes. */
  private static List<String> offenders(Class<?> anchor, String... prefixes) throws IOException, URISyntaxException {
    Path root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> bad = new ArrayList<>();
    int scanned = 0;
    if (Files.isDirectory(root)) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
          String name = root.relativize(f).toString().replace('\\', '/');
          if (matches(name, prefixes)) {
            scanned++;
            numberOverloads(Files.readAllBytes(f)).forEach(m -> bad.add(name + ": NDArray." + m + "(Number)"));
          }
        }
      }
    } else {
      try (JarFile jar = new JarFile(root.toFile())) {
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
          JarEntry entry = e.nextElement();
          if (entry.getName().endsWith(".class") && matches(entry.getName(), prefixes)) {
            scanned++;
            try (InputStream s = jar.getInputStream(entry)) {
              String name = entry.getName();
              numberOverloads(s.readAllBytes()).forEach(m -> bad.add(name + ": NDArray." + m + "(Number)"));
            }
          }
        }
      }
    }
    assertTrue(scanned > 10, "found only " + scanned + " classes under " + root);
    return bad;
  }

  private static boolean matches(String name, String... prefixes) {
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void theScannerSeesANumberOverload() throws IOException {
    try (InputStream s = Probe.class.getResourceAsStream("ScalarOperandTest$Probe.class")) {
      assertEquals(List.of("mul"), numberOverloads(s.readAllBytes()));
    }
  }

  @Test
  void differentiatedCodeUsesNoNumberOverload() throws Exception {
    List<String> bad = new ArrayList<>(offenders(Trainer.class, "org/diffusion4j/train/"));
    bad.addAll(offenders(Denoiser.class, "org/diffusion4j/denoiser/", "org/diffusion4j/guidance/",
        "org/diffusion4j/likelihood/"));
    assertEquals(List.of(), bad, "use org.diffusion4j.tensor.Scalars instead");
  }

  /** A class that makes the unsafe call, for the scanner's own check. */
  static final class Probe {
    static ai.djl.ndarray.NDArray scale(ai.djl.ndarray.NDArray x) {
      return x.mul(2);
    }
  }
}
