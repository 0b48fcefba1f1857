package org.diffusion4j.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.diffusion4j.train.loop.Checkpoint;

/**
 * The rule for run directories: a command writes only into a folder it creates, an empty one, or one
 * that carries its own run marker ({@code config.json} of a Diffusion4J run); anything else is refused
 * with a message naming the folder. Nothing a user put there is ever deleted.
 */
final class RunDirs {
  /** The files a run writes at its top level (the only ones {@link #replaceRun} removes). */
  private static final List<String> RUN_FILES = List.of(Checkpoint.CONFIG, Checkpoint.WEIGHTS, Checkpoint.EMA,
      Checkpoint.OPTIMIZER, "metrics.jsonl", "loss.png");

  private RunDirs() {}

  /**
   * On {@code --resume}: refuses each option of {@code runOptions} the user gave, since a resumed run keeps
   * what it stored in {@code dir} (only {@code --steps} may extend it).
   */
  static void refuseOnResume(picocli.CommandLine.ParseResult given, List<String> runOptions, Path dir) {
    for (String o : runOptions) {
      if (given.hasMatchedOption(o)) {
        throw new IllegalArgumentException("--resume: " + o + " would change the run; a resumed run uses everything "
            + "stored in " + dir.resolve(Checkpoint.CONFIG) + " (only --steps may extend it)");
      }
    }
  }

  /** Whether {@code dir} holds a Diffusion4J run. */
  static boolean isRun(Path dir) {
    Path c = dir.resolve(Checkpoint.CONFIG);
    if (!Files.isRegularFile(c)) {
      return false;
    }
    try {
      return Files.readString(c).contains("\"diffusion4j-run-1\"");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Refuses a new run's directory unless it is absent, empty, or holds only the log of a run stopped before
   * its first checkpoint ({@code metrics.jsonl}, {@code loss.png}: nothing to resume, so they are removed and
   * the run starts over there).
   */
  static void checkNew(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("--out " + dir + " is a file, not a directory");
    }
    if (isRun(dir)) {
      throw new IllegalArgumentException(dir + " already holds a run; pass --resume to continue it or choose another --out");
    }
    if (onlyEarlyLog(dir)) {
      for (String f : RUN_FILES) {
        Files.deleteIfExists(dir.resolve(f));
      }
      return;
    }
    if (!isEmpty(dir)) {
      throw new IllegalArgumentException("--out " + dir + " exists and is not a Diffusion4J run; refusing to write into "
          + "it (choose a new or empty directory)");
    }
  }

  /** Whether {@code dir} holds nothing but what a run writes before its first checkpoint (and is not empty). */
  private static boolean onlyEarlyLog(Path dir) throws IOException {
    boolean any = false;
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        String name = p.getFileName().toString();
        if (!Files.isRegularFile(p) || !(name.equals("metrics.jsonl") || name.equals("loss.png"))) {
          return false;
        }
        if (name.equals("metrics.jsonl") && !isStepLog(p)) {
          return false; // a file of that name that a run did not write: the user's, kept
        }
        any = true;
      }
    }
    return any;
  }

  /**
   * Prepares {@code dir} for a fresh run that replaces an earlier one of the same command: an earlier
   * run's own files are removed (and nothing else); a folder that is not a run must be empty.
   */
  static void replaceRun(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    if (!isRun(dir)) {
      checkNew(dir);
      return;
    }
    for (String f : RUN_FILES) {
      Files.deleteIfExists(dir.resolve(f));
    }
    Path samples = dir.resolve("samples");
    if (Files.isDirectory(samples)) {
      try (DirectoryStream<Path> s = Files.newDirectoryStream(samples, "step-*.png")) {
        for (Path p : s) {
          Files.delete(p);
        }
      }
      if (isEmpty(samples)) {
        Files.delete(samples);
      }
    }
  }

  /** Whether every line of {@code f} is a step record of a run's metrics log ({"step":N,"loss":…}). */
  private static boolean isStepLog(Path f) throws IOException {
    List<String> lines = Files.readAllLines(f);
    return !lines.isEmpty() && lines.stream().allMatch(l -> l.matches("\\{\"step\":\\d+,\"loss\":.*\\}"));
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      return !s.iterator().hasNext();
    }
  }
}
