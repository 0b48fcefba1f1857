package org.diffusion4j.train.loop;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A training checkpoint in a run directory: {@code config.json} (the caller's description of model,
 * process, preconditioning, objective and data scaling, stored as given), {@code weights.safetensors},
 * {@code ema.safetensors} and {@code optimizer.safetensors}. Each safetensors file carries
 * {@code format}, {@code part} and {@code step} in its metadata; the optimiser file also carries the
 * caller's {@code state} strings (RNG state, EMA update count, …).
 *
 * <p>Saving writes every part to a temporary sibling first and renames them into place only when all
 * were written, so a failure while writing leaves the previous checkpoint as it was; loading checks
 * that all parts come from the same step, which catches the (narrow) case of a crash between renames.
 *
 * @param config the run's configuration, JSON text (opaque here; it must be a JSON object)
 * @param weights the network's parameters
 * @param ema the averaged parameters
 * @param optimizer the optimiser's state tensors (e.g. Adam moments)
 * @param step the number of optimiser steps taken
 * @param state further string state to resume with
 */
public record Checkpoint(String config, Map<String, Tensor> weights, Map<String, Tensor> ema,
    Map<String, Tensor> optimizer, long step, Map<String, String> state) {
  public static final String CONFIG = "config.json";
  public static final String WEIGHTS = "weights.safetensors";
  public static final String EMA = "ema.safetensors";
  public static final String OPTIMIZER = "optimizer.safetensors";
  static final String FORMAT = "diffusion4j-checkpoint-1";
  private static final Set<String> RESERVED = Set.of("format", "part", "step");

  public Checkpoint {
    if (step < 0) {
      throw new IllegalArgumentException("checkpoint step " + step + " must be >= 0");
    }
    for (String k : state.keySet()) {
      if (RESERVED.contains(k)) {
        throw new IllegalArgumentException("state key '" + k + "' is reserved; reserved: " + RESERVED);
      }
    }
  }

  /** Writes the checkpoint into {@code dir} (created if needed), replacing any previous one. */
  public void save(Path dir) throws IOException {
    save(dir, part -> {});
  }

  /** As {@link #save(Path)}; {@code beforePart} runs before each part is written (a test seam). */
  void save(Path dir, Consumer<String> beforePart) throws IOException {
    Files.createDirectories(dir);
    Map<String, PartWriter> parts = new LinkedHashMap<>();
    byte[] configBytes = (config.endsWith("\n") ? config : config + "\n").getBytes(StandardCharsets.UTF_8);
    parts.put(CONFIG, out -> out.write(configBytes));
    parts.put(WEIGHTS, tensorsPart(weights, "weights", Map.of()));
    parts.put(EMA, tensorsPart(ema, "ema", Map.of()));
    parts.put(OPTIMIZER, tensorsPart(optimizer, "optimizer", state));
    List<Path[]> staged = new ArrayList<>();
    try {
      // Stage every part.
      for (Map.Entry<String, PartWriter> p : parts.entrySet()) {
        beforePart.accept(p.getKey());
        // Umask-honouring mode for new parts, the existing part's mode when replacing one.
        Path tmp = org.diffusion4j.io.AtomicFiles.createTempSibling(dir.resolve(p.getKey()));
        staged.add(new Path[] {tmp, dir.resolve(p.getKey())});
        try (OutputStream out = Files.newOutputStream(tmp)) {
          p.getValue().write(out);
        }
      }
      // All written: rename into place.
      for (Path[] s : staged) {
        try {
          Files.move(s[0], s[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(s[0], s[1], StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } finally {
      for (Path[] s : staged) {
        Files.deleteIfExists(s[0]);
      }
    }
  }

  @FunctionalInterface
  private interface PartWriter {
    void write(OutputStream out) throws IOException;
  }

  private PartWriter tensorsPart(Map<String, Tensor> tensors, String part, Map<String, String> extra) {
    Map<String, String> meta = new LinkedHashMap<>(extra);
    meta.put("format", FORMAT);
    meta.put("part", part);
    meta.put("step", Long.toString(step));
    byte[] bytes = Safetensors.encode(tensors, meta);
    return out -> out.write(bytes);
  }

  /** Loads the checkpoint in {@code dir}; errors name the missing or corrupt part. */
  public static Checkpoint load(Path dir) throws IOException {
    String config = readConfig(dir);
    Safetensors.Contents w = readPart(dir, WEIGHTS, "weights");
    Safetensors.Contents e = readPart(dir, EMA, "ema");
    Safetensors.Contents o = readPart(dir, OPTIMIZER, "optimizer");
    long newest = Math.max(step(dir, WEIGHTS, w), Math.max(step(dir, EMA, e), step(dir, OPTIMIZER, o)));
    if (step(dir, WEIGHTS, w) != newest || step(dir, EMA, e) != newest || step(dir, OPTIMIZER, o) != newest) {
      // A save killed between its renames: the lagging parts' newer versions are still staged beside them.
      rollForward(dir, newest);
      w = readPart(dir, WEIGHTS, "weights");
      e = readPart(dir, EMA, "ema");
      o = readPart(dir, OPTIMIZER, "optimizer");
    }
    long step = step(dir, WEIGHTS, w);
    sameStep(dir, step, EMA, e);
    sameStep(dir, step, OPTIMIZER, o);
    Map<String, String> state = new LinkedHashMap<>(o.metadata());
    state.keySet().removeAll(RESERVED);
    return new Checkpoint(config, w.tensors(), e.tensors(), o.tensors(), step, state);
  }

  /** Reads only {@code config.json}, checked to be a JSON object; returns its text. */
  public static String readConfig(Path dir) throws IOException {
    Path f = dir.resolve(CONFIG);
    if (!Files.isRegularFile(f)) {
      throw new IllegalArgumentException(dir + ": not a checkpoint: " + CONFIG + " is missing");
    }
    try {
      return org.diffusion4j.io.JsonText.readObject(f).toString();
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(f + ": corrupt checkpoint config (" + ex.getMessage().replace(f.toString(), "")
          .replaceFirst("^[:\\s]+", "") + ")");
    }
  }

  /** The weights (EMA or raw) and the step they were saved at, reading only that part. */
  public static Map.Entry<Long, Map<String, Tensor>> readWeightsWithStep(Path dir, boolean ema) throws IOException {
    String file = ema ? EMA : WEIGHTS;
    Safetensors.Contents c = readPart(dir, file, ema ? "ema" : "weights");
    return Map.entry(step(dir, file, c), c.tensors());
  }

  /** Reads only the weights, the EMA weights if {@code ema} (what sampling needs). */
  public static Map<String, Tensor> readWeights(Path dir, boolean ema) throws IOException {
    return ema ? readPart(dir, EMA, "ema").tensors() : readPart(dir, WEIGHTS, "weights").tensors();
  }

  private static Safetensors.Contents readPart(Path dir, String file, String part) throws IOException {
    Path f = dir.resolve(file);
    if (!Files.isRegularFile(f)) {
      throw new IllegalArgumentException(dir + ": checkpoint part " + file + " is missing");
    }
    Safetensors.Contents c = Safetensors.read(f);
    if (!FORMAT.equals(c.metadata().get("format")) || !part.equals(c.metadata().get("part"))) {
      throw new IllegalArgumentException(f + ": not a Diffusion4J " + part + " checkpoint part (metadata "
          + c.metadata() + ")");
    }
    return c;
  }

  /**
   * Completes a save that was killed between its renames (every part is staged completely before the
   * first rename): each part behind {@code step} is replaced by its staged temporary sibling of that step.
   */
  private static void rollForward(Path dir, long step) throws IOException {
    for (String file : List.of(WEIGHTS, EMA, OPTIMIZER)) {
      String part = file.equals(WEIGHTS) ? "weights" : file.equals(EMA) ? "ema" : "optimizer";
      if (step(dir, file, readPart(dir, file, part)) == step) {
        continue;
      }
      try (java.util.stream.Stream<Path> list = Files.list(dir)) {
        for (Path tmp : (Iterable<Path>) list::iterator) {
          String name = tmp.getFileName().toString();
          if (!name.startsWith("." + file + ".") || !name.endsWith(".tmp")) {
            continue;
          }
          try {
            Safetensors.Contents c = Safetensors.read(tmp);
            if (FORMAT.equals(c.metadata().get("format")) && part.equals(c.metadata().get("part"))
                && Long.toString(step).equals(c.metadata().get("step"))) {
              Files.move(tmp, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
              break;
            }
          } catch (IOException | RuntimeException unreadable) {
            // a partly written stage of an interrupted save: not the one
          }
        }
      }
    }
  }

  private static void sameStep(Path dir, long step, String file, Safetensors.Contents c) {
    long s = step(dir, file, c);
    if (s != step) {
      throw new IllegalArgumentException(dir + ": checkpoint parts disagree: " + WEIGHTS + " is at step "
          + step + " but " + file + " at step " + s + " (an interrupted save?)");
    }
  }

  private static long step(Path dir, String file, Safetensors.Contents c) {
    try {
      return Long.parseLong(c.metadata().get("step"));
    } catch (NumberFormatException ex) {
      throw new IllegalArgumentException(dir.resolve(file) + ": bad step '" + c.metadata().get("step") + "'");
    }
  }
}
