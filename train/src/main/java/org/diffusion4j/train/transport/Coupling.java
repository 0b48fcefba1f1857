package org.diffusion4j.train.transport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * How a minibatch of source points x0 and target points x1, drawn independently, is paired into
 * (x0, x1) for conditional flow matching (Tong et al. 2024; Pooladian et al. 2023): the coupling π of
 * the conditional path. {@link #pair} returns for every source row i the target row it is paired
 * with.
 */
public sealed interface Coupling {

  /**
   * The target row paired with each source row.
   *
   * @param x0 the source minibatch
   * @param x1 the target minibatch (as many points)
   * @param labels the target rows' class labels (used by {@link PerClass}; may be null otherwise)
   * @param rng the step's generator (for couplings that sample)
   */
  int[] pair(Points x0, Points x1, int[] labels, SplittableRandom rng);

  /** Identifier as configs spell it. */
  String id();

  /** The independent coupling p0 ⊗ p1: the draws as they come (CFM, Lipman et al.'s FM). */
  record Independent() implements Coupling {
    @Override
    public int[] pair(Points x0, Points x1, int[] labels, SplittableRandom rng) {
      requireSizes(x0, x1);
      int[] p = new int[x0.n()];
      for (int i = 0; i < p.length; i++) {
        p[i] = i;
      }
      return p;
    }

    @Override public String id() { return "independent"; }
  }

  /**
   * Minibatch exact OT: the permutation minimising {@code Σ‖x0_i − x1_σ(i)‖²} (OT-CFM, Tong et al. 2024;
   * Pooladian et al. 2023), solved by {@link Assignment}.
   */
  record ExactOt() implements Coupling {
    @Override
    public int[] pair(Points x0, Points x1, int[] labels, SplittableRandom rng) {
      requireSizes(x0, x1);
      return Assignment.solve(x0, x1).partner();
    }

    @Override public String id() { return "exact"; }
  }

  /**
   * Minibatch entropic OT: each source point's partner drawn from the Sinkhorn plan with
   * regularisation ε on the squared cost (the static Schrödinger bridge with Brownian reference of
   * variance σ² per unit time has ε = 2σ²; Tong et al. 2024, SB-CFM).
   *
   * @param options ε, iteration cap, tolerance
   */
  record EntropicOt(Sinkhorn.Options options) implements Coupling {
    public EntropicOt {
      java.util.Objects.requireNonNull(options, "options");
    }

    @Override
    public int[] pair(Points x0, Points x1, int[] labels, SplittableRandom rng) {
      requireSizes(x0, x1);
      return Sinkhorn.solve(x0, x1, options).sampleRows(rng);
    }

    @Override public String id() { return "sinkhorn"; }
  }

  /**
   * A coupling applied within each class of the target's labels: the source rows are i.i.d., so
   * the rows of the target's class c take the source rows at the same places, and {@code inner}
   * pairs them (class-conditional OT: the plan is block-diagonal in the labels).
   *
   * @param inner the coupling within a class
   */
  record PerClass(Coupling inner) implements Coupling {
    public PerClass {
      java.util.Objects.requireNonNull(inner, "inner");
      if (inner instanceof PerClass) {
        throw new IllegalArgumentException("a per-class coupling of a per-class coupling is the same coupling");
      }
    }

    @Override
    public int[] pair(Points x0, Points x1, int[] labels, SplittableRandom rng) {
      requireSizes(x0, x1);
      if (labels == null) {
        throw new IllegalArgumentException("a per-class coupling needs labelled target data");
      }
      if (labels.length != x1.n()) {
        throw new IllegalArgumentException(labels.length + " labels for " + x1.n() + " target points");
      }
      Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
      for (int i = 0; i < labels.length; i++) {
        groups.computeIfAbsent(labels[i], k -> new ArrayList<>()).add(i);
      }
      int[] out = new int[x0.n()];
      for (List<Integer> g : groups.values()) {
        int[] rows = g.stream().mapToInt(Integer::intValue).toArray();
        int[] p = inner.pair(x0.rows(rows), x1.rows(rows), null, rng);
        for (int r = 0; r < rows.length; r++) {
          out[rows[r]] = rows[p[r]];
        }
      }
      return out;
    }

    @Override public String id() { return inner.id() + "-per-class"; }
  }

  /**
   * A coupling by name: {@code independent}, {@code exact}, {@code sinkhorn} (with {@code sinkhorn}
   * options), each optionally {@code perClass}.
   */
  static Coupling parse(String id, Sinkhorn.Options sinkhorn, boolean perClass) {
    Coupling c;
    switch (id) {
      case "independent":
        c = new Independent();
        break;
      case "exact":
        c = new ExactOt();
        break;
      case "sinkhorn":
        c = new EntropicOt(sinkhorn);
        break;
      default:
        throw new IllegalArgumentException("unknown coupling '" + id + "'; accepted: independent, exact, sinkhorn");
    }
    return perClass ? new PerClass(c) : c;
  }

  private static void requireSizes(Points x0, Points x1) {
    x0.requireSameDimension(x1);
    if (x0.n() != x1.n()) {
      throw new IllegalArgumentException("a minibatch coupling pairs as many source as target points, got "
          + x0.n() + " and " + x1.n());
    }
  }
}
