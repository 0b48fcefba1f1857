package org.diffusion4j.sampling;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.schedule.Grid;

/**
 * A step schedule saved under a name: the σ's of a grid (typically fitted by {@link GridOptimizer} to a model
 * and sampler, "Align Your Steps", Sabour et al. 2024), the sampler and process it was fitted for, its NFE and
 * where it came from. Stored as {@code NAME.json} in a grids directory; written atomically, σ's in Java's
 * shortest round-trip decimal form, so a load gives back exactly the saved doubles.
 *
 * @param name the name (letters, digits, '.', '_', '-'; not starting with '.'; at most 64 characters)
 * @param process the id of the process the σ's belong to ({@link NoiseProcess#id()})
 * @param sampler the sampler id it was fitted for
 * @param params that sampler's parameters
 * @param nfe the sampler's denoiser evaluations on the grid
 * @param sigmas the grid's σ's, strictly decreasing
 * @param provenance free-form facts: model, start grid, calibration seeds, errors, date
 */
public record SavedGrid(String name, String process, String sampler, Map<String, String> params, int nfe,
    double[] sigmas, Map<String, String> provenance) {

  /** The environment variable naming the user's grids directory. */
  public static final String ENV = "D4J_GRIDS";

  /** The prefix of a reference that is a file path rather than a name. */
  public static final String FILE_PREFIX = "file:";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");

  /** Checks the fields. */
  public SavedGrid {
    checkName(name);
    if (process == null || process.isEmpty() || sampler == null || sampler.isEmpty()) {
      throw new IllegalArgumentException("saved grid " + name + ": process and sampler must be named");
    }
    if (nfe < 1) {
      throw new IllegalArgumentException("saved grid " + name + ": nfe must be >= 1, got " + nfe);
    }
    sigmas = sigmas.clone();
    if (sigmas.length < 2) {
      throw new IllegalArgumentException("saved grid " + name + ": needs at least 2 sigmas, got " + sigmas.length);
    }
    for (int i = 0; i < sigmas.length; i++) {
      if (!(sigmas[i] >= 0 && sigmas[i] < Double.POSITIVE_INFINITY) || i > 0 && !(sigmas[i] < sigmas[i - 1])) {
        throw new IllegalArgumentException("saved grid " + name + ": sigmas must be finite, >= 0 and strictly "
            + "decreasing, got sigma[" + i + "] = " + sigmas[i]);
      }
    }
    params = Map.copyOf(params);
    provenance = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
  }

  /** A saved grid of {@code grid} for {@code sampler}, its NFE counted on the grid. */
  public static SavedGrid of(String name, Grid grid, Sampler sampler, Map<String, String> params,
      Map<String, String> provenance) {
    return new SavedGrid(name, grid.process().id(), sampler.id(), params, NfeBudget.nfe(sampler, grid),
        grid.sigmas(), provenance);
  }

  /** Refuses a name that is not a plain file name. */
  public static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("grid name '" + name + "' is not accepted: use 1-64 letters, digits, '.', "
          + "'_' or '-', not starting with '.'");
    }
    return name;
  }

  /** A copy of the σ's. */
  @Override
  public double[] sigmas() {
    return sigmas.clone();
  }

  /** The grid on {@code p}; refused when the grid was saved for another process. */
  public Grid grid(NoiseProcess p) {
    if (!p.id().equals(process)) {
      throw new IllegalArgumentException("saved grid " + name + " belongs to process " + process
          + ", not to process " + p.id() + " of this model; optimise and save a grid for " + p.id());
    }
    return Grid.ofSigmas(p, sigmas);
  }

  /** The sampler it was fitted for. */
  public Sampler createSampler() {
    return SamplerRegistry.create(sampler, params);
  }

  /** The JSON text. */
  public String toJson() {
    StringBuilder sb = new StringBuilder("{\n  \"name\": ").append(quote(name)).append(",\n  \"process\": ")
        .append(quote(process)).append(",\n  \"sampler\": ").append(quote(sampler)).append(",\n  \"params\": ")
        .append(object(new TreeMap<>(params))).append(",\n  \"nfe\": ").append(nfe).append(",\n  \"sigmas\": [");
    for (int i = 0; i < sigmas.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(Double.toString(sigmas[i]));
    }
    return sb.append("],\n  \"provenance\": ").append(object(provenance)).append("\n}\n").toString();
  }

  private static String quote(String s) {
    return new com.google.gson.JsonPrimitive(s).toString();
  }

  private static String object(Map<String, String> m) {
    StringBuilder sb = new StringBuilder("{");
    boolean first = true;
    for (Map.Entry<String, String> e : m.entrySet()) {
      sb.append(first ? "" : ", ").append(quote(e.getKey())).append(": ").append(quote(e.getValue()));
      first = false;
    }
    return sb.append('}').toString();
  }

  /** Writes {@code dir/NAME.json} atomically (the directory is created); returns the file. */
  public Path save(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".json");
    byte[] bytes = toJson().getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(file, bytes);
    return file;
  }

  /** Reads a saved grid file. */
  public static SavedGrid load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("saved grid file " + file + " does not exist");
    }
    JsonElement e = JsonText.read(file);
    String src = "saved grid " + file;
    JsonObject o = JsonText.object(e, src);
    try {
      JsonArray a = o.getAsJsonArray("sigmas");
      double[] sg = new double[a.size()];
      for (int i = 0; i < sg.length; i++) {
        sg[i] = a.get(i).getAsDouble();
      }
      return new SavedGrid(o.get("name").getAsString(), o.get("process").getAsString(),
          o.get("sampler").getAsString(), strings(o.getAsJsonObject("params")), o.get("nfe").getAsInt(), sg,
          strings(o.getAsJsonObject("provenance")));
    } catch (RuntimeException bad) {
      throw new IllegalArgumentException(src + " is not a saved grid (needs name, process, sampler, params, nfe, "
          + "sigmas, provenance): " + bad.getMessage());
    }
  }

  private static Map<String, String> strings(JsonObject o) {
    Map<String, String> m = new LinkedHashMap<>();
    if (o != null) {
      for (Map.Entry<String, JsonElement> e : o.entrySet()) {
        m.put(e.getKey(), e.getValue().getAsString());
      }
    }
    return m;
  }

  /**
   * The user's grids directory: {@code dir} when given, else {@code $D4J_GRIDS}, else {@code ~/.d4j/grids}.
   */
  public static Path directory(Path dir) {
    if (dir != null) {
      return dir;
    }
    String env = System.getenv(ENV);
    return env != null && !env.isEmpty() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".d4j", "grids");
  }

  /** The names saved in {@code dir} (sorted; empty when it does not exist). */
  public static List<String> names(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.map(p -> p.getFileName().toString()).filter(f -> f.endsWith(".json"))
          .map(f -> f.substring(0, f.length() - 5)).filter(n -> NAME.matcher(n).matches()).sorted()
          .forEach(out::add);
    }
    return out;
  }

  /**
   * Resolves a reference: {@code file:PATH} is that file, anything else a name in {@code dir}; a missing name
   * is an error listing the directory and the names it holds.
   */
  public static SavedGrid resolve(String ref, Path dir) throws IOException {
    if (ref.startsWith(FILE_PREFIX)) {
      return load(Path.of(ref.substring(FILE_PREFIX.length())));
    }
    checkName(ref);
    Path file = dir.resolve(ref + ".json");
    if (!Files.isRegularFile(file)) {
      List<String> have = names(dir);
      throw new IllegalArgumentException("no saved grid '" + ref + "' in " + dir + " (looked for " + file + "); "
          + (have.isEmpty() ? "it holds none" : "saved there: " + String.join(", ", have))
          + "; save one with d4j grid --optimize ... --save NAME, or give file:PATH");
    }
    return load(file);
  }
}
