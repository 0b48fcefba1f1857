package org.diffusion4j.train.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link FlowOde#trajectory}: every state of the path, against dx/dt = −x (x(t) = x0 e^{−t}). */
class FlowOdeTrajectoryTest {
  @Test
  void statesFollowTheExactSolutionAndEndWhereIntegrateEnds() {
    VelocityField v = (x, n, t) -> {
      double[] out = new double[x.length];
      for (int i = 0; i < x.length; i++) {
        out[i] = -x[i];
      }
      return out;
    };
    double[] x0 = {1, -2, 0.5, 3};
    double[][] path = FlowOde.trajectory(v, x0, 2, 20, FlowOde.Method.RK4);
    assertEquals(21, path.length);
    assertArrayEquals(x0, path[0], 0.0);
    for (int k = 0; k <= 20; k++) {
      for (int i = 0; i < x0.length; i++) {
        assertEquals(x0[i] * Math.exp(-k / 20.0), path[k][i], 1e-7, "state " + k + ", element " + i);
      }
    }
    assertArrayEquals(FlowOde.integrate(v, x0, 2, 20, FlowOde.Method.RK4), path[20], 0.0);
    x0[0] = 99;
    assertEquals(1, path[0][0], 0.0, "the first state is a copy");
  }
}
