package org.diffusion4j.train.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diffusion4j.train.eval.SlicedWasserstein;

/**
 * How straight a flow is and what coupling it induces, measured along its own ODE paths from a batch
 * of source points: straightness S and kinetic energy (Liu et al. 2023), the transport cost
 * {@code E‖x1 − x0‖²} of the induced coupling against the exact OT cost between the same two point
 * sets, and the error of Euler with few steps against a fine RK4 reference.
 *
 * @param straightness S of the reference paths
 * @param kineticEnergy {@code E ∫‖v‖² dt}
 * @param transportCost {@code E‖x1 − x0‖²} of the flow's coupling
 * @param otCost {@code W₂²} between the source points and the flow's endpoints (exact up to the limit)
 * @param euler one row per Euler step count
 */
public record TransportReport(double straightness, double kineticEnergy, double transportCost, double otCost,
    List<EulerRow> euler) {

  /**
   * Euler with {@code steps} steps.
   *
   * @param steps steps (= NFE)
   * @param endpointError {@code E‖x1^Euler − x1^ref‖²}
   * @param slicedW2 sliced W₂ of the Euler endpoints to the data points (NaN when none given)
   */
  public record EulerRow(int steps, double endpointError, double slicedW2) {}

  /**
   * Measures a flow.
   *
   * @param v the flow
   * @param x0 source points
   * @param data target data points (for the sliced W₂ columns), or null
   * @param eulerSteps the Euler step counts to compare
   * @param referenceSteps RK4 steps of the reference (100)
   */
  public static TransportReport measure(VelocityField v, Points x0, Points data, int[] eulerSteps, int referenceSteps) {
    FlowOde.Paths ref = FlowOde.measure(v, x0.data(), x0.n(), referenceSteps, FlowOde.Method.RK4);
    Points x1 = new Points(ref.x1(), x0.n(), x0.d());
    double ot = Wasserstein.squared(x0, x1, Wasserstein.EXACT_LIMIT, 0);
    List<EulerRow> rows = new ArrayList<>();
    for (int k : eulerSteps) {
      double[] e = FlowOde.integrate(v, x0.data(), x0.n(), k, FlowOde.Method.EULER);
      double err = 0;
      for (int i = 0; i < e.length; i++) {
        err += (e[i] - ref.x1()[i]) * (e[i] - ref.x1()[i]);
      }
      double sw = data == null ? Double.NaN : SlicedWasserstein.distance(e, data.data(), x0.d(), 256, 7);
      rows.add(new EulerRow(k, err / x0.n(), sw));
    }
    return new TransportReport(ref.straightness(), ref.kineticEnergy(), ref.transportCost(), ot, List.copyOf(rows));
  }

  /** The report as text lines. */
  public List<String> lines() {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, "straightness S %.4g, kinetic energy %.4g", straightness, kineticEnergy));
    out.add(String.format(Locale.ROOT, "transport cost E|x1-x0|^2 %.4g vs exact OT of the same points %.4g (ratio %.3f)",
        transportCost, otCost, transportCost / otCost));
    out.add("euler steps  endpoint error  sliced W2 to data");
    for (EulerRow r : euler) {
      out.add(String.format(Locale.ROOT, "%11d  %14.4g  %17.4g", r.steps(), r.endpointError(), r.slicedW2()));
    }
    return out;
  }
}
