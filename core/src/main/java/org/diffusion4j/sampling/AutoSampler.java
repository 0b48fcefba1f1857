package org.diffusion4j.sampling;

import ai.djl.ndarray.NDArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.io.JsonText;
import org.diffusion4j.schedule.Grid;
import org.diffusion4j.schedule.GridSpec;

/**
 * {@code auto}: the sampler and step schedule the project measured best for an NFE budget, from the table it
 * ships ({@code auto-samplers.json} beside this class; regenerate with {@code bin/bench samplers nfe-tune
 * --write FILE}). The given grid sets the budget — its number of steps, each 1 NFE — and its endpoints
 * (σ_0 and, before the final σ = 0, σ_{N−1}); auto then places the points itself: up to 10 NFE the
 * table's optimised interior σ's (fitted by {@link GridOptimizer} to three Gaussian mixtures with data
 * scale ≈ 1, in the spirit of "Align Your Steps", Sabour et al. 2024), above that the Karras ρ = 7 grid
 * over the given endpoints (Karras et al. 2022, eq. 5). The chosen samplers (DPM-Solver++(2M), UniPC,
 * DEIS) are exponential integrators in λ whose iterates in x̂ = x/s depend on the σ's only, so the table
 * holds for every process.
 *
 * <p>The given grid is used as it is when it does not end at σ = 0, when the process is discrete, or when
 * the table's σ's do not fit strictly inside its endpoints; the budget's sampler runs on it then.
 */
public record AutoSampler() implements Sampler {
  /** Registry entry. */
  public static final SamplerInfo INFO = new SamplerInfo("auto", false,
      "the best measured sampler and optimised step schedule for the NFE budget = grid steps (table: "
          + "bin/bench samplers nfe-tune)", List.of(), p -> new AutoSampler());

  /** One row of the table: the sampler (with parameters) for a budget and, optionally, its interior σ's. */
  public record Entry(int nfe, String sampler, Map<String, String> params, double[] sigmas) {}

  private static final TreeMap<Integer, Entry> TABLE = load();

  private static TreeMap<Integer, Entry> load() {
    try (InputStream in = AutoSampler.class.getResourceAsStream("auto-samplers.json")) {
      if (in == null) {
        throw new IllegalStateException("auto-samplers.json is missing from the class path");
      }
      JsonObject o = JsonText.object(JsonText.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
          "auto-samplers.json"), "auto-samplers.json");
      TreeMap<Integer, Entry> t = new TreeMap<>();
      for (JsonElement e : o.getAsJsonArray("entries")) {
        JsonObject r = e.getAsJsonObject();
        double[] sg = null;
        if (r.has("sigmas")) {
          var a = r.getAsJsonArray("sigmas");
          sg = new double[a.size()];
          for (int i = 0; i < sg.length; i++) {
            sg[i] = a.get(i).getAsDouble();
          }
        }
        int nfe = r.get("nfe").getAsInt();
        Map<String, String> params = new TreeMap<>();
        if (r.has("params")) {
          for (Map.Entry<String, JsonElement> pe : r.getAsJsonObject("params").entrySet()) {
            params.put(pe.getKey(), pe.getValue().getAsString());
          }
        }
        t.put(nfe, new Entry(nfe, r.get("sampler").getAsString(), params, sg));
      }
      return t;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read auto-samplers.json: " + e.getMessage(), e);
    }
  }

  /** The shipped table, by NFE. */
  public static List<Entry> table() {
    return new ArrayList<>(TABLE.values());
  }

  /** The table's entry for a budget: the exact one, else the largest budget below it (the smallest above). */
  static Entry entry(int nfe) {
    Map.Entry<Integer, Entry> e = TABLE.floorEntry(nfe);
    if (e == null) {
      e = TABLE.ceilingEntry(nfe);
    }
    return e.getValue();
  }

  /** What auto runs on {@code grid}: the sampler and the grid it places. */
  public record Choice(Sampler sampler, Grid grid) {}

  /** The sampler and grid auto picks for {@code grid} (its budget and endpoints). */
  public static Choice choose(Grid grid) {
    int budget = grid.steps();
    Entry e = entry(budget);
    Sampler s = SamplerRegistry.create(e.sampler(), e.params());
    if (!grid.endsAtZero() || grid.process().isDiscrete() || budget < 2) {
      return new Choice(s, grid);
    }
    double hi = grid.sigma(0);
    double lo = grid.sigma(budget - 1);
    if (e.nfe() == budget && e.sigmas() != null && e.sigmas().length == budget - 1) {
      double[] sg = new double[budget + 1];
      sg[0] = hi;
      boolean fits = true;
      for (int i = 0; i < budget - 1; i++) {
        sg[i + 1] = e.sigmas()[i];
        fits &= sg[i + 1] < sg[i];
      }
      if (fits) {
        return new Choice(s, Grid.ofSigmas(grid.process(), sg));
      }
    }
    if (!(lo < hi)) {
      return new Choice(s, grid);
    }
    return new Choice(s, GridSpec.karras(lo, hi, 7).build(grid.process(), budget));
  }

  @Override
  public String id() {
    return "auto";
  }

  @Override
  public NDArray run(Denoiser model, Grid grid, NDArray x, NoiseSource noise, StepListener listener) {
    Choice c = choose(grid);
    return c.sampler().run(model, c.grid(), x, noise, listener);
  }
}
