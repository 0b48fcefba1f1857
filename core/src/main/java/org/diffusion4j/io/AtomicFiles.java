package org.diffusion4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Set;

/**
 * Writes files so that a reader never sees half of one: write a temporary sibling, flush, then
 * rename over the target (atomic on POSIX file systems). On failure the target is untouched and the
 * temporary file removed.
 *
 * <p>Permissions: a new file gets the mode any new file gets ({@code 0666 & ~umask}: the temporary
 * file is made with {@link Files#createFile} and no attributes, so the OS applies the umask — unlike
 * {@link Files#createTempFile}, which makes it 0600); an existing file keeps its mode. A target that
 * is a symbolic link is written through: the file it points to is replaced and the link kept.
 * Errors name the target, never the temporary file.
 */
public final class AtomicFiles {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MAX_LINKS = 40;

  private AtomicFiles() {}

  /** Something that writes a file's content to a stream. */
  @FunctionalInterface
  public interface Writer {
    void write(OutputStream out) throws IOException;
  }

  /** Atomically replaces {@code target} with what {@code writer} produces. */
  public static void write(Path target, Writer writer) throws IOException {
    Path real = resolveLinks(target.toAbsolutePath());
    Path tmp = null;
    try {
      tmp = createTempSibling(real);
      try (OutputStream out = Files.newOutputStream(tmp)) {
        writer.write(out);
      }
      try {
        Files.move(tmp, real, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, real, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw failure(target, e);
    } finally {
      if (tmp != null) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /**
   * Creates an empty temporary file beside {@code target} (in the same directory, created if needed)
   * with the mode {@code target} should end up with: the existing target's mode, or for a new file
   * the umask's default. The caller renames it over {@code target} or deletes it.
   */
  public static Path createTempSibling(Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Path tmp;
    while (true) {
      String name = "." + abs.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp";
      tmp = dir == null ? Path.of(name) : dir.resolve(name);
      try {
        Files.createFile(tmp);
        break;
      } catch (FileAlreadyExistsException taken) {
        // try another name
      }
    }
    try {
      PosixFileAttributeView view = Files.getFileAttributeView(abs, PosixFileAttributeView.class);
      if (view != null && Files.exists(abs)) {
        Set<PosixFilePermission> keep = view.readAttributes().permissions();
        Files.setPosixFilePermissions(tmp, keep);
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    return tmp;
  }

  /** Follows symbolic links (also dangling ones) to the path a write should replace. */
  static Path resolveLinks(Path p) throws IOException {
    Path cur = p;
    for (int i = 0; i < MAX_LINKS && Files.isSymbolicLink(cur); i++) {
      Path to = Files.readSymbolicLink(cur);
      cur = (cur.getParent() == null ? to : cur.getParent().resolve(to)).normalize();
    }
    if (Files.isSymbolicLink(cur)) {
      throw new IOException("cannot write " + p + ": more than " + MAX_LINKS + " levels of symbolic links");
    }
    return cur;
  }

  /** An I/O failure re-stated for {@code target}: what went wrong, never the temporary file's name. */
  private static IOException failure(Path target, IOException e) {
    String why;
    if (e instanceof AccessDeniedException) {
      Path dir = target.toAbsolutePath().getParent();
      why = "permission denied" + (dir == null ? "" : " (the directory " + dir + " must be writable)");
    } else if (e instanceof FileAlreadyExistsException) {
      why = "a parent of it is not a directory";
    } else if (e instanceof NoSuchFileException) {
      why = "no such directory";
    } else if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
      why = ((FileSystemException) e).getReason();
    } else if (e.getMessage() != null && !e.getMessage().contains(".tmp")) {
      why = e.getMessage();
    } else {
      why = e.getClass().getSimpleName();
    }
    if (why.startsWith("cannot write " + target)) {
      return e;
    }
    return new IOException("cannot write " + target + ": " + why, e);
  }

  /** Reads a whole file; a missing file is bad input, named in the message. */
  public static byte[] readAll(Path file) throws IOException {
    try {
      return Files.readAllBytes(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException("no such file: " + file);
    }
  }

  /** Atomically replaces {@code target} with {@code bytes}. */
  public static void write(Path target, byte[] bytes) throws IOException {
    write(target, out -> out.write(bytes));
  }
}
