package org.diffusion4j.train.data;

import java.util.SplittableRandom;
import org.diffusion4j.analytic.GaussianMixture;
import org.diffusion4j.analytic.LabelledMixture;

/**
 * Exact samples of a Gaussian mixture ({@link GaussianMixture#sample}, one seed per sample from the
 * generator), labelled with the class of the component each was drawn from (the JSON's {@code "labels"},
 * or the component index).
 */
record MixtureSource(GaussianMixture mixture, String name, int[] componentLabels) implements DataSource {
  MixtureSource(GaussianMixture mixture, String name) {
    this(mixture, name, LabelledMixture.byComponent(mixture).labels());
  }

  MixtureSource(LabelledMixture labelled, String name) {
    this(labelled.mixture(), name, labelled.labels());
  }

  @Override
  public boolean hasLabels() {
    return true;
  }

  @Override
  public int classes() {
    return java.util.Arrays.stream(componentLabels).max().orElse(-1) + 1;
  }

  @Override
  public long[] sampleShape() {
    return new long[] {mixture.dim()};
  }

  @Override
  public String describe() {
    return name + " (Gaussian mixture, " + mixture.components() + " components in " + mixture.dim() + "-D, "
        + classes() + " classes, as given)";
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
    int[] k = mixture.components(seeds);
    for (int i = 0; i < n; i++) {
      k[i] = componentLabels[k[i]];
    }
    return new HostBatch(x, new long[] {n, mixture.dim()}, k);
  }
}
