package org.diffusion4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.diffusion4j.process.DiscreteDdpm;
import org.junit.jupiter.api.Test;

class GridCommandTest {
  private static JsonObject json(String... args) {
    Cli.Run r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
    return JsonParser.parseString(r.out()).getAsJsonObject();
  }

  private static double[] doubles(JsonArray a) {
    double[] v = new double[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).getAsDouble();
    }
    return v;
  }

  @Test
  void karrasOnEdmFollowsTheFormula() {
    JsonObject o = json("grid", "--process", "edm", "--grid", "karras", "--steps", "5", "--json");
    double[] sg = doubles(o.getAsJsonArray("sigmas"));
    assertFalse(o.has("timesteps"), "no timesteps on a continuous process");
    assertEquals(6, sg.length);
    // Karras et al. 2022 eq. 5 with σ_min 0.002, σ_max 80, ρ 7, N = 5 nonzero points, then 0.
    double a = Math.pow(80, 1 / 7.0);
    double b = Math.pow(0.002, 1 / 7.0);
    for (int i = 0; i < 5; i++) {
      double expected = Math.pow(a + i / 4.0 * (b - a), 7);
      assertEquals(expected, sg[i], 1e-13 * expected, "sigma[" + i + "]");
    }
    assertEquals(0.0, sg[5]);
  }

  @Test
  void karrasHonoursSigmaRangeAndRho() {
    double[] sg = doubles(json("grid", "--steps", "3", "--sigma-min", "0.5", "--sigma-max", "10", "--rho", "3",
        "--json").getAsJsonArray("sigmas"));
    assertArrayEquals(new double[] {10, Math.pow((Math.cbrt(10) + Math.cbrt(0.5)) / 2, 3), 0.5, 0}, sg, 1e-12);
  }

  private static long[] timesteps(String spacing, String... extra) {
    List<String> args = new java.util.ArrayList<>(
        List.of("grid", "--process", "ddpm", "--grid", spacing, "--steps", "10", "--json"));
    args.addAll(List.of(extra));
    JsonObject o = json(args.toArray(new String[0]));
    JsonArray t = o.getAsJsonArray("timesteps");
    long[] v = new long[t.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.get(i).getAsLong();
      assertEquals(t.get(i).getAsDouble(), v[i], 0.0, "integral timestep");
    }
    // σ at each timestep is the DDPM table's σ_t = sqrt((1 − ᾱ_t)/ᾱ_t); σ = 0 at t = −1.
    double[] sg = doubles(o.getAsJsonArray("sigmas"));
    double[] table = DiscreteDdpm.DEFAULT.sigmas();
    for (int i = 0; i < v.length - 1; i++) {
      assertEquals(table[(int) v[i]], sg[i], 1e-12 * table[(int) v[i]]);
    }
    assertEquals(0.0, sg[v.length - 1]);
    return v;
  }

  // Expected values: diffusers DDIMScheduler.set_timesteps(10) with 1000 train steps, the three
  // timestep_spacing options (Lin et al. 2024, Table 2), plus our final −1 for σ = 0.

  @Test
  void leadingOnDdpm() {
    assertArrayEquals(new long[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0, -1}, timesteps("leading"));
  }

  @Test
  void leadingWithStepsOffset() {
    assertArrayEquals(new long[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1, -1},
        timesteps("leading", "--steps-offset", "1"));
  }

  @Test
  void trailingOnDdpm() {
    assertArrayEquals(new long[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99, -1}, timesteps("trailing"));
  }

  @Test
  void linspaceOnDdpm() {
    assertArrayEquals(new long[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0, -1}, timesteps("linspace"));
  }

  @Test
  void dropLastAsDiffusersMultistepSchedulers() {
    // diffusers DPMSolverMultistepScheduler: linspace(0, 999, 11).round()[::-1][:-1] (numpy rounds 499.5
    // to 500); leading: arange(11)·(1000 // 11), reversed, last dropped.
    assertArrayEquals(new long[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100, -1},
        timesteps("linspace", "--drop-last"));
    assertArrayEquals(new long[] {900, 810, 720, 630, 540, 450, 360, 270, 180, 90, -1},
        timesteps("leading", "--drop-last"));
  }

  @Test
  void tableIsReadable() {
    Cli.Run r = Cli.run("grid", "--process", "ddpm", "--grid", "trailing", "--steps", "4");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("timestep") && r.out().contains("sigma") && r.out().contains("999"), r.out());
    assertEquals(1 + 1 + 5, r.out().strip().lines().count(), r.out());
  }

  @Test
  void timestepGridOnContinuousProcessFails() {
    Cli.Run r = Cli.run("grid", "--process", "edm", "--grid", "leading", "--steps", "4");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("d4j: error: ") && r.err().contains("ddpm"), r.err());
  }

  @Test
  void helpTeaches() {
    Cli.Run r = Cli.run("grid", "--help");
    assertEquals(0, r.code());
    String help = r.out().replaceAll("\\s+", " ");
    assertTrue(help.contains("-1") && help.contains("Examples:") && help.contains("default: karras"), r.out());
  }
}
