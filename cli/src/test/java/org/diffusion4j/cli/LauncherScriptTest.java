package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/d4j} launched through a symlink finds its checkout. Hermetic: the script is copied into
 * a fake checkout whose jar is up to date, and {@code java} on the PATH is a stub that prints its
 * arguments and the environment the launcher set up (OpenMP waiting, malloc), so no build and no JVM is
 * started.
 */
class LauncherScriptTest {
  @TempDir
  Path tmp;

  @Test
  void runsThroughASymlinkFromAnotherDirectory() throws Exception {
    Path script = Paths.get(System.getProperty("user.dir")).getParent().resolve("bin/d4j");
    Path root = tmp.resolve("checkout");
    Files.createDirectories(root.resolve("bin"));
    Files.copy(script, root.resolve("bin/d4j"));
    Files.copy(script.resolveSibling("omp-waiting"), root.resolve("bin/omp-waiting"));
    Files.copy(script.resolveSibling("malloc"), root.resolve("bin/malloc"));
    Path tcmalloc = Files.createFile(tmp.resolve("libtcmalloc_minimal.so.4"));
    String missing = tmp.resolve("no-such-libtcmalloc.so").toString();
    Path jar = root.resolve("cli/target/diffusion4j-cli-0.1.0-SNAPSHOT.jar");
    Files.createDirectories(jar.getParent());
    Files.createFile(jar);
    Path stubs = Files.createDirectories(tmp.resolve("stubs"));
    Path java = stubs.resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"java $* [wait ${OMP_WAIT_POLICY:-}/${GOMP_SPINCOUNT:-}]"
        + " [malloc ${GLIBC_TUNABLES:-}/${MALLOC_TOP_PAD_:-}] [preload ${LD_PRELOAD:-}]\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path links = Files.createDirectories(tmp.resolve("elsewhere/bin"));
    Path link = Files.createSymbolicLink(links.resolve("d4j"), root.resolve("bin/d4j"));
    // A relative link, one more level of indirection.
    Path link2 = Files.createSymbolicLink(tmp.resolve("d4j-rel"), tmp.relativize(link));

    for (Path l : new Path[] {link, link2}) {
      ProcessBuilder pb = new ProcessBuilder(l.toString(), "samplers").directory(tmp.toFile())
          .redirectErrorStream(true);
      pb.environment().put("PATH", stubs + ":/usr/bin:/bin");
      pb.environment().remove("OMP_WAIT_POLICY");
      pb.environment().remove("GOMP_SPINCOUNT");
      clearMalloc(pb);
      pb.environment().put("D4J_TCMALLOC", missing);
      Process p = pb.start();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains(jar.toRealPath().toString()) && out.contains("org.diffusion4j.cli.D4j samplers"), out);
      // How OpenMP threads wait (bin/omp-waiting): a spin count on an idle machine, PASSIVE on a busy one.
      assertTrue(out.contains("[wait /300000]") || out.contains("[wait PASSIVE/]"), out);
      // Without tcmalloc: glibc's malloc keeps freed tensor memory (bin/malloc).
      assertTrue(out.contains("[malloc " + TUNED + "/] [preload ]"), out);
    }
    // A setting of the user's own is kept, and the other one is not added.
    for (String[] given : new String[][] {{"OMP_WAIT_POLICY", "ACTIVE", "[wait ACTIVE/]"},
        {"GOMP_SPINCOUNT", "1000", "[wait /1000]"}, {"GLIBC_TUNABLES", "glibc.malloc.arena_max=1",
        "[malloc glibc.malloc.arena_max=1/] [preload ]"}, {"MALLOC_TOP_PAD_", "0", "[malloc /0] [preload ]"},
        {"D4J_GLIBC_MALLOC", "default", "[malloc /] [preload ]"}, {"D4J_MALLOC", "default", "[malloc /] [preload ]"},
        {"D4J_MALLOC", "glibc", "[malloc " + TUNED + "/] [preload ]"},
        {"LD_PRELOAD", "/opt/libjemalloc.so.2", "[malloc /] [preload /opt/libjemalloc.so.2]"},
        // tcmalloc, when it is installed, is preferred; a preload of something else stays after it
        {"D4J_MALLOC", "", "[malloc /] [preload " + tcmalloc + "]"},
        {"LD_PRELOAD", "/opt/libtrace.so", "[malloc /] [preload " + tcmalloc + ":/opt/libtrace.so]"}}) {
      ProcessBuilder pb = new ProcessBuilder(link.toString(), "samplers").directory(tmp.toFile())
          .redirectErrorStream(true);
      pb.environment().put("PATH", stubs + ":/usr/bin:/bin");
      pb.environment().remove("OMP_WAIT_POLICY");
      pb.environment().remove("GOMP_SPINCOUNT");
      clearMalloc(pb);
      pb.environment().put("D4J_TCMALLOC", tcmalloc.toString());
      pb.environment().put(given[0], given[1]);
      Process p = pb.start();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), out);
      assertTrue(out.contains(given[2]), given[0] + ": " + out);
    }
    // A choice the launcher cannot honour stops it, naming the value.
    for (String[] bad : new String[][] {{"D4J_MALLOC", "tcmallco", tcmalloc.toString(), "D4J_MALLOC=tcmallco"},
        {"D4J_MALLOC", "tcmalloc", missing, "no " + missing}}) {
      ProcessBuilder pb = new ProcessBuilder(link.toString(), "samplers").directory(tmp.toFile())
          .redirectErrorStream(true);
      pb.environment().put("PATH", stubs + ":/usr/bin:/bin");
      clearMalloc(pb);
      pb.environment().put("D4J_TCMALLOC", bad[2]);
      pb.environment().put(bad[0], bad[1]);
      Process p = pb.start();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(2, p.exitValue(), out);
      assertTrue(out.contains(bad[3]) && !out.contains("org.diffusion4j.cli.D4j"), out);
    }
  }

  private static final String TUNED = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728"
      + ":glibc.malloc.top_pad=67108864";

  private static void clearMalloc(ProcessBuilder pb) {
    for (String v : new String[] {"D4J_GLIBC_MALLOC", "D4J_MALLOC", "D4J_TCMALLOC", "LD_PRELOAD", "GLIBC_TUNABLES",
        "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
      pb.environment().remove(v);
    }
  }
}
