package org.diffusion4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Spark program ({@code ```java spark} block) compiles against this module. */
class ReadmeSparkTest {
  @TempDir
  Path dir;

  @Test
  void theSparkExampleCompiles() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("```java spark\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    assertTrue(m.find(), "the README has a ```java spark block");
    String src = m.group(1);
    assertTrue(src.contains("SparkSampling.sample(") && src.contains("SparkSampling.evaluate("), src);
    Matcher name = Pattern.compile("public class (\\w+)").matcher(src);
    assertTrue(name.find(), "the block is a full public class");
    Path file = dir.resolve(name.group(1) + ".java");
    Files.writeString(file, src);
    ByteArrayOutputStream diag = new ByteArrayOutputStream();
    int rc = ToolProvider.getSystemJavaCompiler().run(null, diag, diag, "-classpath", classPath(), "-d", dir.toString(),
        file.toString());
    assertEquals(0, rc, "the README's Spark example does not compile:\n" + diag);
  }

  /** The test class path, expanded from surefire's manifest-only jar if it uses one. */
  private static String classPath() throws Exception {
    List<String> entries = new ArrayList<>();
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      entries.add(e);
      if (e.endsWith(".jar") && e.contains("surefire")) {
        try (JarFile j = new JarFile(e)) {
          String cp = j.getManifest() == null ? null : j.getManifest().getMainAttributes().getValue("Class-Path");
          if (cp != null) {
            for (String u : cp.split(" ")) {
              if (!u.isBlank()) {
                entries.add(Path.of(new URL(u).toURI()).toString());
              }
            }
          }
        }
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
