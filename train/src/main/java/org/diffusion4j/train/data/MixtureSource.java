package org.diffusion4j.train.data;

import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;

/** Exact samples of a Gaussian mixture ({@link GaussianMixture#sample}, one seed per sample from the generator). */
record MixtureSource(GaussianMixture mixture, String name) implements DataSource {
  @Override
  public long[] sampleShape() {
    return new long[] {mixture.dim()};
  }

  @Override
  public String describe() {
    return name + " (Gaussian mixture, " + mixture.components() + " components in " + mixture.dim() + "-D, as given)";
  }

  @Override
  public HostBatch sample(int n, SplittableRandom rng) {
    DataSource.checkCount(n);
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      seeds[i] = rng.nextLong();
    }
    double[] d = mixture.sample(seeds, 0);
    float[] x = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      x[i] = (float) d[i];
    }
    return new HostBatch(x, new long[] {n, mixture.dim()}, null);
  }
}
