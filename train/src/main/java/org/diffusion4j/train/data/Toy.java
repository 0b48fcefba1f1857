package org.diffusion4j.train.data;

import java.util.SplittableRandom;

/**
 * The 2-D toy distributions of the flow and diffusion literature, generated on the fly. Shapes follow
 * FFJORD's {@code lib/toy_data.py} (Grathwohl et al. 2019; moons and circles as scikit-learn's
 * {@code make_moons(noise=0.1)} and {@code make_circles(factor=0.5, noise=0.08)}, with uniform random
 * angles instead of evenly spaced ones). Each is then centred and scaled isotropically to unit variance
 * per coordinate (average over the two), using its exact mean and variance written below, so
 * {@code σ_data ≈ 1} whatever the toy.
 */
public enum Toy implements DataSource {
  TWO_MOONS("two-moons", 0.5, 0.25, Math.sqrt(0.5 * ((0.75 + 0.01) + (0.25 + 0.5 * (0.75 - 2 / Math.PI) - 0.0625 + 0.01)))) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // Upper moon (cos θ, sin θ) or lower moon (1 − cos θ, 0.5 − sin θ), θ ~ U[0, π], noise 0.1.
      double t = Math.PI * rng.nextDouble();
      boolean upper = rng.nextBoolean();
      p[0] = (upper ? Math.cos(t) : 1 - Math.cos(t)) + 0.1 * rng.nextGaussian();
      p[1] = (upper ? Math.sin(t) : 0.5 - Math.sin(t)) + 0.1 * rng.nextGaussian();
    }
  },
  EIGHT_GAUSSIANS("8-gaussians", 0, 0, Math.sqrt(16 * 0.5 + 0.25)) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // 4·(unit vector at a multiple of 45°) + N(0, 0.5²).
      double a = Math.PI / 4 * rng.nextInt(8);
      p[0] = 4 * Math.cos(a) + 0.5 * rng.nextGaussian();
      p[1] = 4 * Math.sin(a) + 0.5 * rng.nextGaussian();
    }
  },
  CHECKERBOARD("checkerboard", 0, 0, Math.sqrt(4.0 / 3.0)) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // x ~ U[−2, 2); y uniform on the squares of the board's colour in column ⌊x⌋.
      double x = 4 * rng.nextDouble() - 2;
      double y = rng.nextDouble() - 2 * rng.nextInt(2) + Math.floorMod((int) Math.floor(x), 2);
      p[0] = x;
      p[1] = y;
    }
  },
  SWISS_ROLL("swiss-roll", 2.0, 2.0 / (3 * Math.PI),
      Math.sqrt(0.5 * (Math.PI * Math.PI * 9.75 - 4 - 4 / (9 * Math.PI * Math.PI) + 2))) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // t ~ U[1.5π, 4.5π]: (t cos t, t sin t) + N(0, 1); E[t cos t] = 2, E[t sin t] = 2/(3π), E[t²] = 9.75π².
      double t = 1.5 * Math.PI * (1 + 2 * rng.nextDouble());
      p[0] = t * Math.cos(t) + rng.nextGaussian();
      p[1] = t * Math.sin(t) + rng.nextGaussian();
    }
  },
  PINWHEEL("pinwheel", 0, 0, Math.sqrt(0.5 * (1 + 0.09 + 0.01))) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // Five arms: radial 1 + N(0, 0.3²), tangential N(0, 0.1²), rotated by 2πk/5 + 0.25·e^radial.
      double r = 1 + 0.3 * rng.nextGaussian();
      double s = 0.1 * rng.nextGaussian();
      double a = 2 * Math.PI * rng.nextInt(5) / 5 + 0.25 * Math.exp(r);
      p[0] = r * Math.cos(a) + s * Math.sin(a);
      p[1] = -r * Math.sin(a) + s * Math.cos(a);
    }
  },
  CIRCLES("circles", 0, 0, Math.sqrt(0.5 * 0.5 * (1 + 0.25) + 0.08 * 0.08)) {
    @Override
    void draw(SplittableRandom rng, double[] p) {
      // Radius 1 or 0.5 at a uniform angle, noise 0.08.
      double a = 2 * Math.PI * rng.nextDouble();
      double r = rng.nextBoolean() ? 1 : 0.5;
      p[0] = r * Math.cos(a) + 0.08 * rng.nextGaussian();
      p[1] = r * Math.sin(a) + 0.08 * rng.nextGaussian();
    }
  };

  private final String spelling;
  private final double meanX;
  private final double meanY;
  private final double std;

  Toy(String spelling, double meanX, double meanY, double std) {
    this.spelling = spelling;
    this.meanX = meanX;
    this.meanY = meanY;
    this.std = std;
  }

  /** One raw point into {@code p}. */
  abstract void draw(SplittableRandom rng, double[] p);

  /** The name as the CLI spells it. */
  public String spelling() {
    return spelling;
  }

  /** The toy called {@code name}, or null. */
  public static Toy bySpelling(String name) {
    for (Toy t : values()) {
      if (t.spelling.equals(name)) {
        return t;
      }
    }
    return null;
  }

  @Override
  public long[] sampleShape() {
    return new long[] {2};
  }

  @Override
  public String describe() {
    return spelling + " (2-D toy, centred, unit variance per coordinate)";
  }

  @Override
  public HostBatch sample(int n, SplittableRandom rng) {
    DataSource.checkCount(n);
    float[] x = new float[2 * n];
    double[] p = new double[2];
    for (int i = 0; i < n; i++) {
      draw(rng, p);
      x[2 * i] = (float) ((p[0] - meanX) / std);
      x[2 * i + 1] = (float) ((p[1] - meanY) / std);
    }
    return new HostBatch(x, new long[] {n, 2}, null);
  }
}
