package org.diffusion4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffusion4j.device.Devices;
import org.diffusion4j.sampling.SamplerRegistry;

/**
 * What every executor needs to sample its share of seeds from a trained run: the run's path (on storage
 * every executor reads), the sampler and grid, and the seed range. Samples depend only on their seed, so the
 * split into partitions changes nothing in the output as long as partitions hold whole batches
 * ({@link #ranges}).
 *
 * @param model the run directory, readable by every executor (shared file system or the same path on each node)
 * @param ema the EMA weights (true) or the raw weights
 * @param sampler a sampler id ({@code d4j samplers})
 * @param params sampler parameters (name → value)
 * @param grid a grid id (karras, …)
 * @param steps grid steps
 * @param firstSeed the first seed
 * @param count number of samples, one per seed {@code firstSeed, firstSeed + 1, …}
 * @param batch samples per batch on an executor
 * @param dtype float64 or float32 integration
 * @param label the class of a class-conditional run (null: the null label ∅, i.e. unconditional)
 * @param device cpu, gpu or gpu:N on each executor (checked there)
 */
public record SampleJob(String model, boolean ema, String sampler, Map<String, String> params, String grid, int steps,
    long firstSeed, long count, int batch, String dtype, Long label, String device) implements Serializable {

  public SampleJob {
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("a run directory is needed");
    }
    SamplerRegistry.get(sampler);
    params = new LinkedHashMap<>(params == null ? Map.of() : params);
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    if (count < 1 || count > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("the number of samples must be in 1.." + (Integer.MAX_VALUE - 8) + ", got "
          + count);
    }
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be >= 1, got " + batch);
    }
    dtype = dtype.toLowerCase(Locale.ROOT);
    if (!dtype.equals("float64") && !dtype.equals("float32")) {
      throw new IllegalArgumentException("unknown dtype '" + dtype + "'; accepted: float64, float32");
    }
    // Only the name here: the driver may have no GPU where the executors do; each executor checks its own.
    Devices.syntax(device);
  }

  /** A job with the CLI's defaults: EMA weights, karras grid, float64, unconditional, CPU. */
  public static SampleJob of(String model, String sampler, int steps, long firstSeed, long count, int batch) {
    return new SampleJob(model, true, sampler, Map.of(), "karras", steps, firstSeed, count, batch, "float64", null,
        "cpu");
  }

  /** The last seed. */
  public long lastSeed() {
    return firstSeed + count - 1;
  }

  /**
   * The seeds split into at most {@code partitions} contiguous ranges of whole batches (the batches a single
   * process with the same batch size runs), as even as batches allow.
   */
  public List<SeedRange> ranges(int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    long batches = (count + batch - 1) / batch;
    int p = (int) Math.min(partitions, batches);
    List<SeedRange> out = new ArrayList<>();
    for (int i = 0; i < p; i++) {
      long b0 = batches * i / p;
      long b1 = batches * (i + 1) / p;
      long first = firstSeed + b0 * batch;
      long last = Math.min(lastSeed(), firstSeed + b1 * batch - 1);
      out.add(new SeedRange(first, last));
    }
    return out;
  }
}
