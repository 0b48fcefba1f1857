package org.diffusion4j.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.diffusion4j.io.AtomicFiles;
import org.diffusion4j.io.Npy;

/**
 * The saved state of a long {@code d4j nll} run: the per-point NLLs finished so far in {@code FILE.npy} and,
 * beside it in {@code FILE.npy.progress.json}, the settings they were computed with, the number of points
 * done and the cost so far. Both are rewritten atomically after every batch, so a run killed at any moment
 * loses at most the batch it was in, and {@code --resume} continues it — or extends a finished one to a
 * larger {@code --n} — with the same numbers an uninterrupted run gives (probes and dequantisation noise
 * are drawn per point index; batches start at multiples of {@code --batch} as before).
 */
public final class NllProgress {
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

  /** The settings that must agree for saved values to be reused, in a fixed order. */
  private final Map<String, String> settings;
  private final Path values;
  private double[] nll;
  private int done;
  private long nfe;
  private int solves;
  private double seconds;

  private NllProgress(Path values, Map<String, String> settings, double[] nll, int done, long nfe, int solves,
      double seconds) {
    this.values = values;
    this.settings = settings;
    this.nll = nll;
    this.done = done;
    this.nfe = nfe;
    this.solves = solves;
    this.seconds = seconds;
  }

  /** The progress file beside a per-sample file ({@code FILE.npy.progress.json}). */
  public static Path sidecar(Path values) {
    return values.resolveSibling(values.getFileName() + ".progress.json");
  }

  /**
   * A run of {@code count} points with these settings: fresh, or — with {@code resume} and a progress file
   * whose settings equal these — continuing from its saved points. A resume whose settings differ, or
   * whose files are missing or disagree, is refused naming the difference.
   */
  static NllProgress open(Path values, Map<String, String> settings, int count, boolean resume) throws IOException {
    Map<String, String> s = new TreeMap<>(settings);
    Path side = sidecar(values);
    if (!resume) {
      return new NllProgress(values, s, new double[count], 0, 0, 0, 0);
    }
    if (!Files.exists(side)) {
      throw new IllegalArgumentException("--resume: no " + side + " (a run started with --per-sample " + values
          + " writes it after its first batch); start without --resume");
    }
    JsonObject j = JsonParser.parseString(Files.readString(side, StandardCharsets.UTF_8)).getAsJsonObject();
    JsonObject saved = j.getAsJsonObject("settings");
    for (Map.Entry<String, String> e : s.entrySet()) {
      String was = saved.has(e.getKey()) ? saved.get(e.getKey()).getAsString() : null;
      if (!e.getValue().equals(was)) {
        throw new IllegalArgumentException("--resume: " + e.getKey() + " was " + was + " in " + side + ", now "
            + e.getValue() + "; resume with the same settings or start without --resume");
      }
    }
    int savedDone = j.get("done").getAsInt();
    double[] old = Npy.read(values).data();
    if (old.length < savedDone) {
      throw new IllegalArgumentException("--resume: " + values + " holds " + old.length + " values but " + side
          + " says " + savedDone + " are done");
    }
    int keep = Math.min(savedDone, count);
    double[] nll = new double[count];
    System.arraycopy(old, 0, nll, 0, keep);
    return new NllProgress(values, s, nll, keep, j.get("nfe").getAsLong(), j.get("solves").getAsInt(),
        j.get("seconds").getAsDouble());
  }

  /** Points already done (the next batch starts here). */
  int done() {
    return done;
  }

  /** The per-point NLLs, the first {@link #done()} of them filled. */
  double[] values() {
    return nll;
  }

  /** ODE evaluations summed over solves, this run's and the resumed ones'. */
  long nfe() {
    return nfe;
  }

  /** ODE solves (batches), this run's and the resumed ones'. */
  int solves() {
    return solves;
  }

  /** Wall seconds of the likelihood solves, this run's and the resumed ones'. */
  double seconds() {
    return seconds;
  }

  /** Records a finished batch starting at {@link #done()} and saves both files. */
  void add(double[] batch, long batchNfe, double batchSeconds) throws IOException {
    System.arraycopy(batch, 0, nll, done, batch.length);
    done += batch.length;
    nfe += batchNfe;
    solves++;
    seconds += batchSeconds;
    save();
  }

  private void save() throws IOException {
    // Values first: a kill between the two writes leaves a progress file that under-counts, never over.
    Npy.write(values, Arrays.copyOf(nll, done), new long[] {done}, false);
    JsonObject j = new JsonObject();
    j.add("settings", GSON.toJsonTree(settings));
    j.addProperty("done", done);
    j.addProperty("nfe", nfe);
    j.addProperty("solves", solves);
    j.addProperty("seconds", seconds);
    AtomicFiles.write(sidecar(values), GSON.toJson(j).getBytes(StandardCharsets.UTF_8));
  }
}
