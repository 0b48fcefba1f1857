package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import org.diffusion4j.train.nn.NativeOps;
import org.diffusion4j.train.nn.TorchScript;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.tensor.Scalars;

/**
 * AdamW with decoupled weight decay (Loshchilov &amp; Hutter 2019), the update of PyTorch's
 * {@code torch.optim.AdamW}: {@code w ← w(1 − lr·wd)}, {@code m ← β1 m + (1−β1) g},
 * {@code v ← β2 v + (1−β2) g²}, {@code w ← w − (lr/(1−β1^t))·m/(sqrt(v)/sqrt(1−β2^t) + ε)}.
 *
 * <p>On PyTorch one {@code torch._fused_adamw_} call updates every tensor (the kernel behind
 * {@code torch.optim.AdamW(fused=True)}); elsewhere the update is written out per tensor.
 *
 * <p>We keep our own optimiser rather than DJL's so that its state (m, v, t) can be written to a
 * checkpoint and restored exactly: {@code --resume} then gives the same losses as an uninterrupted run.
 * Defaults: β1 0.9, β2 0.999, ε 1e-8, weight decay 0 (PyTorch's AdamW default is 0.01; diffusion
 * models usually train without decay).
 */
public final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final Map<String, NDArray> m = new LinkedHashMap<>();
  private final Map<String, NDArray> v = new LinkedHashMap<>();
  private long step;

  /** AdamW with the given hyper-parameters. */
  public AdamW(double beta1, double beta2, double eps, double weightDecay) {
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("betas must lie in [0, 1), got " + beta1 + ", " + beta2);
    }
    if (!(eps > 0) || !(weightDecay >= 0)) {
      throw new IllegalArgumentException("eps must be > 0 and weight decay >= 0, got " + eps + ", " + weightDecay);
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** β1 0.9, β2 0.999, ε 1e-8, no weight decay. */
  public static AdamW defaults() {
    return new AdamW(0.9, 0.999, 1e-8, 0);
  }

  /** Number of updates taken. */
  public long step() {
    return step;
  }

  /**
   * One update of every parameter in place from its gradient. {@code params} maps a stable name to
   * the parameter array (with its gradient attached).
   */
  public void update(Map<String, NDArray> params, double lr) {
    step++;
    double bc1 = 1 - Math.pow(beta1, step);
    double bc2 = 1 - Math.pow(beta2, step);
    double stepSize = lr / bc1;
    double sqrtBc2 = Math.sqrt(bc2);
    if (!params.isEmpty() && TorchScript.isTorch(params.values().iterator().next())) {
      fused(params, lr);
      return;
    }
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      NDArray w = e.getValue();
      try (NDScope scope = new NDScope()) {
        NDArray g = w.getGradient();
        NDArray mi = m.get(e.getKey());
        NDArray vi = v.get(e.getKey());
        if (mi == null) {
          mi = w.zerosLike();
          vi = w.zerosLike();
          NDScope.unregister(mi, vi);
          mi.setRequiresGradient(false);
          m.put(e.getKey(), mi);
          v.put(e.getKey(), vi);
        }
        Scalars.muli(mi, beta1).addi(Scalars.mul(g, 1 - beta1));
        Scalars.muli(vi, beta2).addi(Scalars.muli(g.square(), 1 - beta2));
        if (weightDecay != 0) {
          Scalars.muli(w, 1 - lr * weightDecay);
        }
        NDArray denom = Scalars.divi(vi.sqrt(), sqrtBc2).addi(eps);
        w.subi(Scalars.muli(mi.div(denom), stepSize));
      }
    }
  }

  /** PyTorch: every tensor in one {@code _fused_adamw_} call (the same update, one kernel per tensor). */
  private void fused(Map<String, NDArray> params, double lr) {
    List<NDArray> ws = new ArrayList<>(params.size());
    List<NDArray> gs = new ArrayList<>(params.size());
    List<NDArray> ms = new ArrayList<>(params.size());
    List<NDArray> vs = new ArrayList<>(params.size());
    try (NDScope scope = new NDScope()) {
      for (Map.Entry<String, NDArray> e : params.entrySet()) {
        NDArray w = e.getValue();
        NDArray mi = m.get(e.getKey());
        if (mi == null) {
          mi = w.zerosLike();
          NDArray vi = w.zerosLike();
          NDScope.unregister(mi, vi);
          m.put(e.getKey(), mi);
          v.put(e.getKey(), vi);
        }
        ws.add(w);
        gs.add(w.getGradient());
        ms.add(mi);
        vs.add(v.get(e.getKey()));
      }
      NativeOps.adamw(ws, gs, ms, vs, step, lr, beta1, beta2, eps, weightDecay);
    }
  }

  /**
   * Sets every parameter's gradient to zero in place (PyTorch accumulates gradients across backward
   * passes; call this after each update, which is also how gradient accumulation is expressed).
   */
  public static void zeroGradients(Map<String, NDArray> params) {
    if (!params.isEmpty() && TorchScript.isTorch(params.values().iterator().next())) {
      try (NDScope scope = new NDScope()) {
        List<NDArray> gs = new ArrayList<>(params.size());
        params.values().forEach(w -> gs.add(w.getGradient()));
        NativeOps.zero(gs);
      }
      return;
    }
    for (NDArray w : params.values()) {
      try (NDScope scope = new NDScope()) {
        // Assigned, not subtracted: g − g is NaN wherever g is ±∞ or NaN, so a skipped non-finite step
        // would otherwise leave NaN in the buffer that every later backward pass accumulates into.
        w.getGradient().set(new NDIndex("..."), 0);
      }
    }
  }

  /** The state for a checkpoint: {@code m.NAME}, {@code v.NAME} arrays; the step count separately. */
  public Map<String, NDArray> state() {
    Map<String, NDArray> s = new LinkedHashMap<>();
    m.forEach((k, a) -> s.put("m." + k, a));
    v.forEach((k, a) -> s.put("v." + k, a));
    return s;
  }

  /** Restores {@link #state()} and the step count (arrays are copied into this optimiser). */
  public void load(Map<String, NDArray> state, long steps, Map<String, NDArray> params) {
    m.clear();
    v.clear();
    for (String name : params.keySet()) {
      NDArray mi = state.get("m." + name);
      NDArray vi = state.get("v." + name);
      if (mi == null || vi == null) {
        throw new IllegalArgumentException("optimizer state has no moments for parameter '" + name + "'");
      }
      NDArray w = params.get(name);
      if (!mi.getShape().equals(w.getShape())) {
        throw new IllegalArgumentException("optimizer state for '" + name + "' has shape " + mi.getShape()
            + " but the parameter has " + w.getShape());
      }
      NDArray mc = w.getManager().create(mi.toType(w.getDataType(), false).toFloatArray(), w.getShape());
      NDArray vc = w.getManager().create(vi.toType(w.getDataType(), false).toFloatArray(), w.getShape());
      NDScope.unregister(mc, vc);
      m.put(name, mc);
      v.put(name, vc);
    }
    this.step = steps;
  }
}
