package org.diffusion4j.train.transport;

import java.util.Locale;

/**
 * Integrates a velocity field {@code dx/dt = v(x, t)} from t = 0 to t = 1 on a uniform grid in t with
 * an explicit Runge–Kutta method (Euler, midpoint, Heun, classic RK4). This is the sampler of flows
 * whose source is not N(0, I) (toy-to-toy transport) and of paths other than the rectified one: the
 * frame's samplers start from a Gaussian prior at finite σ and assume the rectified-flow state, while
 * here t runs over the closed interval [0, 1] and the start is any source sample.
 */
public final class FlowOde {
  private FlowOde() {}

  /** An explicit Runge–Kutta tableau. */
  public enum Method {
    EULER(new double[][] {}, new double[] {1}, new double[] {0}),
    MIDPOINT(new double[][] {{0.5}}, new double[] {0, 1}, new double[] {0, 0.5}),
    HEUN(new double[][] {{1}}, new double[] {0.5, 0.5}, new double[] {0, 1}),
    RK4(new double[][] {{0.5}, {0, 0.5}, {0, 0, 1}}, new double[] {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
        new double[] {0, 0.5, 0.5, 1});

    final double[][] a;
    final double[] weights;
    final double[] c;

    Method(double[][] a, double[] weights, double[] c) {
      this.a = a;
      this.weights = weights;
      this.c = c;
    }

    /** Velocity evaluations per step. */
    public int stages() {
      return weights.length;
    }

    /** {@code euler}, {@code midpoint}, {@code heun}, {@code rk4}. */
    public static Method parse(String id) {
      try {
        return valueOf(id.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown ODE method '" + id + "'; accepted: euler, midpoint, heun, rk4");
      }
    }
  }

  /** Observes each stage's velocity: step k, stage weight × h, the stage's velocity. */
  @FunctionalInterface
  interface StageListener {
    void stage(int step, double weightedH, double[] v);
  }

  /** {@code x(1)} from {@code x(0) = x0} (n rows), in {@code steps} steps of {@code method}. */
  public static double[] integrate(VelocityField v, double[] x0, int n, int steps, Method method) {
    return integrate(v, x0, n, steps, method, null);
  }

  /**
   * The whole path: {@code steps + 1} states {@code x(k/steps)}, the first a copy of {@code x0} (for
   * pictures of trajectories).
   */
  public static double[][] trajectory(VelocityField v, double[] x0, int n, int steps, Method method) {
    double[][] states = new double[steps + 1][];
    states[0] = x0.clone();
    integrate(v, x0, n, steps, method, null, states);
    return states;
  }

  static double[] integrate(VelocityField v, double[] x0, int n, int steps, Method method, StageListener listener) {
    return integrate(v, x0, n, steps, method, listener, null);
  }

  private static double[] integrate(VelocityField v, double[] x0, int n, int steps, Method method,
      StageListener listener, double[][] states) {
    if (steps < 1) {
      throw new IllegalArgumentException("ODE steps must be >= 1, got " + steps);
    }
    double h = 1.0 / steps;
    double[] x = x0.clone();
    int s = method.stages();
    double[][] k = new double[s][];
    double[] y = new double[x.length];
    for (int step = 0; step < steps; step++) {
      org.diffusion4j.lifecycle.StopRequest.check("the flow integration stopped before it finished; nothing was written");
      double t = step * h;
      for (int i = 0; i < s; i++) {
        System.arraycopy(x, 0, y, 0, x.length);
        if (i > 0) {
          for (int j = 0; j < i; j++) {
            double c = method.a[i - 1][j];
            if (c != 0) {
              for (int e = 0; e < y.length; e++) {
                y[e] += h * c * k[j][e];
              }
            }
          }
        }
        k[i] = v.velocity(y, n, t + method.c[i] * h);
        if (k[i].length != x.length) {
          throw new IllegalArgumentException("the velocity field returned " + k[i].length + " values for " + x.length);
        }
        if (listener != null) {
          listener.stage(step, method.weights[i] * h, k[i]);
        }
      }
      for (int i = 0; i < s; i++) {
        double w = method.weights[i];
        if (w != 0) {
          for (int e = 0; e < x.length; e++) {
            x[e] += h * w * k[i][e];
          }
        }
      }
      for (int e = 0; e < x.length; e++) {
        if (!Double.isFinite(x[e])) {
          throw new IllegalStateException("the flow left the finite numbers at t = " + (t + h) + " (row " + e / (x.length / n)
              + "); fewer steps or a better-trained model?");
        }
      }
      if (states != null) {
        states[step + 1] = x.clone();
      }
    }
    return x;
  }

  /**
   * What a flow does to a batch of source points.
   *
   * @param x1 the endpoints
   * @param straightness {@code S = E ∫_0^1 ‖v(x_t, t) − (x1 − x0)‖² dt} along the flow's own paths (Liu et
   *     al. 2023, eq. of Definition 2.3): 0 iff the paths are straight lines traversed at constant speed
   * @param kineticEnergy {@code E ∫ ‖v‖² dt} (S = K − E‖x1 − x0‖² in exact arithmetic)
   * @param transportCost {@code E‖x1 − x0‖²}, the cost of the coupling the flow induces
   * @param nfe velocity evaluations per point (both passes)
   */
  public record Paths(double[] x1, double straightness, double kineticEnergy, double transportCost, int nfe) {}

  /**
   * Straightness, kinetic energy and transport cost of the flow from {@code x0}: a first pass finds x1,
   * a second accumulates {@code ‖v − (x1 − x0)‖²} with the method's own quadrature.
   */
  public static Paths measure(VelocityField v, double[] x0, int n, int steps, Method method) {
    double[] x1 = integrate(v, x0, n, steps, method);
    int d = x0.length / n;
    double[] delta = new double[x0.length];
    double cost = 0;
    for (int e = 0; e < delta.length; e++) {
      delta[e] = x1[e] - x0[e];
      cost += delta[e] * delta[e];
    }
    double[] acc = new double[2];
    integrate(v, x0, n, steps, method, (step, wh, k) -> {
      double s = 0;
      double ke = 0;
      for (int e = 0; e < k.length; e++) {
        double u = k[e] - delta[e];
        s += u * u;
        ke += k[e] * k[e];
      }
      acc[0] += wh * s;
      acc[1] += wh * ke;
    });
    return new Paths(x1, acc[0] / n, acc[1] / n, cost / n, 2 * steps * method.stages());
  }
}
