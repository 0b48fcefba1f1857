package org.diffusion4j.spark;

import java.io.Serializable;

/**
 * The seeds {@code first..last} inclusive that one partition samples.
 *
 * @param first the first seed
 * @param last the last seed
 */
public record SeedRange(long first, long last) implements Serializable {
  public SeedRange {
    if (last < first) {
      throw new IllegalArgumentException("empty seed range " + first + "-" + last);
    }
  }

  /** Number of seeds. */
  public long count() {
    return last - first + 1;
  }
}
