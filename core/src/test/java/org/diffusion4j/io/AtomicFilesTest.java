package org.diffusion4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Modes, symbolic links and error messages of atomic writes. */
class AtomicFilesTest {
  @TempDir Path dir;

  /** The mode a freshly created file gets here: 0666 & ~umask. */
  private Set<PosixFilePermission> umaskMode() throws IOException {
    Path probe = Files.createFile(dir.resolve("probe"));
    Set<PosixFilePermission> m = Files.getPosixFilePermissions(probe);
    Files.delete(probe);
    return m;
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  private long tempFiles() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count();
    }
  }

  @Test
  void newFilesHonourTheUmaskAndExistingFilesKeepTheirMode() throws IOException {
    Set<PosixFilePermission> expected = umaskMode();
    Assumptions.assumeFalse(expected.equals(PosixFilePermissions.fromString("rw-------")),
        "umask 077 cannot tell the fix from the fault");
    Path f = dir.resolve("sub/new.bin");
    AtomicFiles.write(f, new byte[] {1});
    assertEquals(PosixFilePermissions.toString(expected), mode(f));
    Path shared = dir.resolve("shared.npy");
    Files.write(shared, new byte[] {0});
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-rw-r--"));
    AtomicFiles.write(shared, new byte[] {2, 3});
    assertEquals("rw-rw-r--", mode(shared));
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-------"));
    AtomicFiles.write(shared, new byte[] {4});
    assertEquals("rw-------", mode(shared));
    assertArrayEquals(new byte[] {4}, Files.readAllBytes(shared));
    assertEquals(0, tempFiles());
  }

  @Test
  void aSymlinkIsWrittenThroughAndKept() throws IOException {
    Path real = dir.resolve("data/real.npy");
    Files.createDirectories(real.getParent());
    Files.write(real, new byte[] {0});
    Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rw-rw-r--"));
    Path link = Files.createSymbolicLink(dir.resolve("out.npy"), Path.of("data/real.npy")); // relative
    Path link2 = Files.createSymbolicLink(dir.resolve("out2.npy"), link); // a chain
    AtomicFiles.write(link2, new byte[] {7, 8});
    assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(link2));
    assertArrayEquals(new byte[] {7, 8}, Files.readAllBytes(real));
    assertEquals("rw-rw-r--", mode(real));
    // A dangling link: its target is created.
    Path dangling = Files.createSymbolicLink(dir.resolve("later.npy"), dir.resolve("data/later-real.npy"));
    AtomicFiles.write(dangling, new byte[] {9});
    assertTrue(Files.isSymbolicLink(dangling));
    assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("data/later-real.npy")));
    assertEquals(0, tempFiles());
  }

  @Test
  void failuresNameTheTargetNotTheTemporaryFile() throws IOException {
    Path target = dir.resolve("x.npy");
    Files.write(target, new byte[] {1, 2});
    IOException full = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
      out.write(new byte[] {5, 5, 5});
      throw new IOException("No space left on device");
    }));
    assertEquals("cannot write " + target + ": No space left on device", full.getMessage());
    assertArrayEquals(new byte[] {1, 2}, Files.readAllBytes(target), "target untouched");
    assertEquals(0, tempFiles());
    Path underFile = target.resolve("y.npy"); // x.npy is a file, not a directory
    IOException notDir = assertThrows(IOException.class, () -> AtomicFiles.write(underFile, new byte[] {1}));
    assertTrue(notDir.getMessage().startsWith("cannot write " + underFile + ": "), notDir.getMessage());
    assertFalse(notDir.getMessage().contains(".tmp"), notDir.getMessage());
  }

  @Test
  void anUnwritableDirectoryIsNamed() throws IOException {
    Path ro = Files.createDirectory(dir.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      Assumptions.assumeFalse(Files.isWritable(ro), "running as root: permissions are not enforced");
      Path target = ro.resolve("x.npy");
      IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, new byte[] {1}));
      assertEquals("cannot write " + target + ": permission denied (the directory " + ro + " must be writable)",
          e.getMessage());
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }
}
