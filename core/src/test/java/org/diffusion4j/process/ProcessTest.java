package org.diffusion4j.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessTest {
  static List<NoiseProcess> all() {
    List<NoiseProcess> ps = new ArrayList<>();
    for (String id : Processes.IDS) {
      ps.add(Processes.byId(id));
    }
    ps.add(DiscreteDdpm.of(1000, "scaled_linear", 0.00085, 0.012));
    ps.add(DiscreteDdpm.of(1000, "squaredcos_cap_v2", 1e-4, 0.02));
    return ps;
  }

  /** Interior sample times, away from the endpoints and the discrete knots. */
  static double[] times(NoiseProcess p) {
    double a = p.tMin();
    double b = p.tMax();
    double[] ts = new double[9];
    for (int i = 0; i < ts.length; i++) {
      ts[i] = a + (b - a) * (i + 0.37) / ts.length;
    }
    return ts;
  }

  @Test
  void sigmaInverseRoundTrips() {
    for (NoiseProcess p : all()) {
      for (double t : times(p)) {
        double back = p.sigmaInv(p.sigma(t));
        assertEquals(t, back, 1e-9 * Math.max(1, Math.abs(t)), p + " at t=" + t);
      }
    }
  }

  @Test
  void lambdaInverseRoundTrips() {
    for (NoiseProcess p : all()) {
      for (double t : times(p)) {
        assertEquals(t, p.tOfLambda(p.lambda(t)), 1e-9 * Math.max(1, Math.abs(t)), p + " at t=" + t);
        assertEquals(Math.log(p.alpha(t) / p.sigmaAbs(t)), p.lambda(t), 1e-10, p + " λ = log(α/σ)");
      }
    }
  }

  @Test
  void derivativesMatchFiniteDifferences() {
    for (NoiseProcess p : all()) {
      for (double t : times(p)) {
        double h = 1e-6 * Math.max(1, Math.abs(t));
        double ds = (p.s(t + h) - p.s(t - h)) / (2 * h);
        double dsg = (p.sigma(t + h) - p.sigma(t - h)) / (2 * h);
        assertEquals(ds, p.ds(t), 1e-5 * Math.max(1, Math.abs(ds)), p + " ds at " + t);
        assertEquals(dsg, p.dSigma(t), 1e-5 * Math.max(1, Math.abs(dsg)), p + " dσ at " + t);
      }
    }
  }

  @Test
  void sdeCoefficientsMatchTheKernel() {
    // FWD-02: f = α'/α and g² = d(σ_t²)/dt − 2 f σ_t², with book α = s, σ_t = s·σ.
    for (NoiseProcess p : all()) {
      for (double t : times(p)) {
        double h = 1e-6 * Math.max(1, Math.abs(t));
        double a = p.alpha(t);
        double da = (p.alpha(t + h) - p.alpha(t - h)) / (2 * h);
        double sa = p.sigmaAbs(t);
        double dsa2 = (Math.pow(p.sigmaAbs(t + h), 2) - Math.pow(p.sigmaAbs(t - h), 2)) / (2 * h);
        double f = da / a;
        double g2 = dsa2 - 2 * f * sa * sa;
        assertEquals(f, p.f(t), 1e-5 * Math.max(1, Math.abs(f)), p + " f at " + t);
        assertEquals(g2, p.g2(t), 1e-5 * Math.max(1, Math.abs(g2)), p + " g² at " + t);
      }
    }
  }

  @Test
  void closedFormsOfTheCheatSheet() {
    // FWD-15 rows: VP α² + σ² = 1, f = −β/2, g² = β; VE f = 0; flow α = 1 − t, σ = t; trig cos/sin.
    VpLinear vp = VpLinear.DEFAULT;
    for (double t : times(vp)) {
      assertEquals(1, Math.pow(vp.alpha(t), 2) + Math.pow(vp.sigmaAbs(t), 2), 1e-12);
      assertEquals(-0.5 * (0.1 + 19.9 * t), vp.f(t), 1e-12);
    }
    assertEquals(Math.exp(-0.5 * (0.1 + 9.95)), vp.alpha(1), 1e-15, "α(1) = e^{−B(1)/2}");
    RectifiedFlow fl = RectifiedFlow.DEFAULT;
    assertEquals(0.7, fl.alpha(0.3), 1e-15);
    assertEquals(0.3, fl.sigmaAbs(0.3), 1e-15);
    assertEquals(2 * 0.3 / 0.7, fl.g2(0.3), 1e-12);
    Trigonometric tr = Trigonometric.DEFAULT;
    assertEquals(Math.sin(0.4), tr.sigmaAbs(0.4), 1e-15);
    assertEquals(2 * Math.tan(0.4), tr.g2(0.4), 1e-12);
    VarianceExploding ve = VarianceExploding.DEFAULT;
    assertEquals(0, ve.f(0.5), 0);
    assertEquals(2 * Math.pow(ve.sigma(0.5), 2) * Math.log(5000), ve.g2(0.5), 1e-9);
    SubVp sub = SubVp.DEFAULT;
    for (double t : times(sub)) {
      double b = 0.1 * t + 0.5 * 19.9 * t * t;
      assertEquals(1 - Math.exp(-b), sub.sigmaAbs(t), 1e-12, "sub-VP std = 1 − e^{−B}");
      assertEquals((0.1 + 19.9 * t) * (1 - Math.exp(-2 * b)), sub.g2(t), 1e-9);
    }
  }

  @Test
  void discreteDdpmMatchesHoNotation() {
    DiscreteDdpm d = DiscreteDdpm.DEFAULT;
    double[] ac = d.alphasCumprod();
    assertEquals(1 - 1e-4, ac[0], 1e-15);
    assertEquals((1 - 1e-4) * (1 - (1e-4 + (0.02 - 1e-4) / 999)), ac[1], 1e-15);
    for (int i : new int[] {0, 1, 499, 999}) {
      assertEquals(Math.sqrt(ac[i]), d.alpha(i), 1e-12, "α_i = sqrt(ᾱ_i) at " + i);
      assertEquals(Math.sqrt(1 - ac[i]), d.sigmaAbs(i), 1e-12, "σ_i = sqrt(1 − ᾱ_i) at " + i);
    }
    // Between knots, log σ is linear in t (k-diffusion's DiscreteSchedule).
    double mid = Math.exp(0.5 * (Math.log(d.sigma(10)) + Math.log(d.sigma(11))));
    assertEquals(mid, d.sigma(10.5), 1e-12);
    assertEquals(0, d.sigmaInv(1e-9), 0, "clamped below the table");
    assertEquals(999, d.sigmaInv(1e9), 0, "clamped above the table");
  }

  @Test
  void cosineBetasAreCappedAndScaledLinearIsSquared() {
    DiscreteDdpm c = DiscreteDdpm.of(1000, "squaredcos_cap_v2", 0, 0);
    assertEquals(0.999, c.betas()[999], 1e-12, "last cosine beta hits the 0.999 cap");
    DiscreteDdpm s = DiscreteDdpm.of(1000, "scaled_linear", 0.00085, 0.012);
    assertEquals(0.00085, s.betas()[0], 1e-15);
    assertEquals(0.012, s.betas()[999], 1e-15);
    double r = Math.sqrt(0.00085) + (Math.sqrt(0.012) - Math.sqrt(0.00085)) * 500 / 999;
    assertEquals(r * r, s.betas()[500], 1e-15);
  }

  @Test
  void everyProcessSurvivesAJsonRoundTrip() {
    for (NoiseProcess p : all()) {
      NoiseProcess back = Processes.fromJson(Processes.toJson(p));
      assertEquals(p, back, p.id());
      assertEquals(p.sigma(p.tMax() * 0.5), back.sigma(p.tMax() * 0.5), 0);
    }
    var e = assertThrows(IllegalArgumentException.class,
        () -> Processes.fromJson("{\"id\":\"vp\"}"));
    assertTrue(e.getMessage().contains("beta_min"), e.getMessage());
  }

  @Test
  void badParametersNameTheValue() {
    var e = assertThrows(IllegalArgumentException.class, () -> new Edm(-1, 80));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new VpLinear(20, 0.1, 1e-3));
    assertTrue(e.getMessage().contains("beta-min"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Processes.byId("vpp"));
    assertTrue(e.getMessage().contains("vpp") && e.getMessage().contains("edm"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DiscreteDdpm.of(1000, "cosine", 1e-4, 0.02));
    assertTrue(e.getMessage().contains("squaredcos_cap_v2"), e.getMessage());
  }
}
