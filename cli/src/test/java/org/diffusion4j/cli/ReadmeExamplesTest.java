package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Use from Java" programs compile against the modules and run. */
class ReadmeExamplesTest {
  @TempDir Path dir;

  /** Every {@code ```java} block of the README. */
  static List<String> javaBlocks() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The test class path, expanded from surefire's manifest-only jar if it uses one. */
  static String classPath() throws Exception {
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

  @Test
  void theJavaProgramsCompileAndRun() throws Exception {
    List<String> blocks = javaBlocks();
    assertTrue(blocks.size() >= 2, "the README shows at least two Java programs, found " + blocks.size());
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    String cp = classPath();
    for (String src : blocks) {
      Matcher name = Pattern.compile("public class (\\w+)").matcher(src);
      assertTrue(name.find(), "each block is a full public class:\n" + src);
      assertTrue(src.contains("public static void main("), name.group(1) + " has a main method");
      Path file = dir.resolve(name.group(1) + ".java");
      Files.writeString(file, src);
      ByteArrayOutputStream diag = new ByteArrayOutputStream();
      int rc = javac.run(null, diag, diag, "-classpath", cp, "-d", dir.toString(), file.toString());
      assertEquals(0, rc, name.group(1) + " does not compile:\n" + diag);
      PrintStream old = System.out;
      ByteArrayOutputStream printed = new ByteArrayOutputStream();
      try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
        Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        main.invoke(null, (Object) new String[] {dir.resolve("run-" + name.group(1)).toString()});
      } finally {
        System.setOut(old);
      }
      String text = printed.toString(StandardCharsets.UTF_8);
      assertTrue(text.contains("NFE"), name.group(1) + " printed: " + text);
    }
  }
}
