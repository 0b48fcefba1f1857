package org.diffusion4j.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffusion4j.tensor.Scalars;
import org.diffusion4j.train.nn.NativeOps;
import org.diffusion4j.train.nn.TorchScript;

/**
 * Exponential moving average of named parameters, {@code θ_ema ← β θ_ema + (1 − β) θ}, with β from a
 * {@link Decay}: the warm-up form (TensorFlow's {@code ExponentialMovingAverage} with
 * {@code num_updates}, as in DDPM and diffusers' {@code EMAModel}) or EDM's half-life form (Karras et
 * al. 2022, {@code training_loop.py}). The averaged arrays live in a sub-manager owned by this object.
 */
public final class Ema implements AutoCloseable {

  /** How β depends on the number t of updates made before this one (t = 0 on the first). */
  public sealed interface Decay permits WarmUp, HalfLife {
    /** β for the update that follows {@code t} earlier updates. */
    double beta(long t);
  }

  /**
   * {@code β_t = min(decay, (1 + t)/(10 + t))}: a short memory at first (β_0 = 0.1), growing to
   * {@code decay}. Typical decay 0.999 (small runs) to 0.9999 (DDPM).
   */
  public record WarmUp(double decay) implements Decay {
    public WarmUp {
      if (!(decay >= 0 && decay < 1)) {
        throw new IllegalArgumentException("EMA decay " + decay + " must be in [0, 1)");
      }
    }

    @Override
    public double beta(long t) {
      return Math.min(decay, (1.0 + t) / (10.0 + t));
    }
  }

  /**
   * EDM's form: {@code β = 0.5^(batch / max(h, 1e-8))} with half-life {@code h = halfLifeImages}
   * images, or {@code h = min(halfLifeImages, images·rampUpRatio)} when a ramp-up ratio is set,
   * where {@code images = t·batch} were seen before this update. EDM's defaults: half-life 500k
   * images, ramp-up 0.05; with ramp-up the first update copies the weights (β = 0).
   *
   * @param halfLifeImages half-life in training images, &gt; 0
   * @param rampUpRatio ratio of the images seen that caps the half-life; 0 for none
   * @param batch images per update
   */
  public record HalfLife(double halfLifeImages, double rampUpRatio, int batch) implements Decay {
    public HalfLife {
      if (!(halfLifeImages > 0)) {
        throw new IllegalArgumentException("EMA half-life " + halfLifeImages + " images must be > 0");
      }
      if (!(rampUpRatio >= 0)) {
        throw new IllegalArgumentException("EMA ramp-up ratio " + rampUpRatio + " must be >= 0 (0 = none)");
      }
      if (batch < 1) {
        throw new IllegalArgumentException("EMA batch " + batch + " must be >= 1");
      }
    }

    @Override
    public double beta(long t) {
      double h = halfLifeImages;
      if (rampUpRatio > 0) {
        h = Math.min(h, (double) t * batch * rampUpRatio);
      }
      return Math.pow(0.5, batch / Math.max(h, 1e-8));
    }
  }

  private final NDManager manager;
  private final Decay decay;
  private final Map<String, NDArray> shadow = new LinkedHashMap<>();
  private long updates;

  /** Starts the average at a copy of {@code params}. */
  public Ema(NDManager parent, Map<String, NDArray> params, Decay decay) {
    this(parent, decay, 0);
    params.forEach((k, v) -> shadow.put(k, v.duplicate()));
    shadow.values().forEach(a -> a.attach(manager));
  }

  private Ema(NDManager parent, Decay decay, long updates) {
    if (updates < 0) {
      throw new IllegalArgumentException("EMA update count " + updates + " must be >= 0");
    }
    this.manager = parent.newSubManager();
    this.decay = decay;
    this.updates = updates;
  }

  /** Restores an average saved with {@link #state()} after {@code updates} updates (for resume). */
  public static Ema restore(NDManager parent, Map<String, Tensor> state, Decay decay, long updates) {
    Ema e = new Ema(parent, decay, updates);
    state.forEach((k, v) -> e.shadow.put(k, v.toNDArray(e.manager)));
    return e;
  }

  /** One update from the current parameters, which must have the same names and shapes. */
  public void update(Map<String, NDArray> params) {
    if (!params.keySet().equals(shadow.keySet())) {
      throw new IllegalArgumentException("EMA parameters " + shadow.keySet() + " differ from " + params.keySet());
    }
    double beta = decay.beta(updates);
    if (!shadow.isEmpty() && TorchScript.isTorch(shadow.values().iterator().next())) {
      List<NDArray> ts = new ArrayList<>(shadow.size());
      List<NDArray> ps = new ArrayList<>(shadow.size());
      for (Map.Entry<String, NDArray> e : shadow.entrySet()) {
        NDArray p = params.get(e.getKey());
        if (!p.getShape().equals(e.getValue().getShape())) {
          throw new IllegalArgumentException("parameter '" + e.getKey() + "' has shape " + p.getShape()
              + ", its average " + e.getValue().getShape());
        }
        ts.add(e.getValue());
        ps.add(p);
      }
      // θ_ema ← θ_ema + (1 − β)(θ − θ_ema), every tensor in one _foreach_lerp_.
      try (NDScope scope = new NDScope()) {
        NativeOps.lerp(ts, ps, 1 - beta);
      }
      updates++;
      return;
    }
    for (Map.Entry<String, NDArray> e : shadow.entrySet()) {
      NDArray s = e.getValue();
      NDArray p = params.get(e.getKey());
      if (!p.getShape().equals(s.getShape())) {
        throw new IllegalArgumentException("parameter '" + e.getKey() + "' has shape " + p.getShape()
            + ", its average " + s.getShape());
      }
      // θ_ema ← θ_ema + (1 − β)(θ − θ_ema).
      try (NDArray d = p.sub(s)) {
        s.addi(Scalars.muli(d, 1 - beta));
      }
    }
    updates++;
  }

  /** β the next update will use. */
  public double nextBeta() {
    return decay.beta(updates);
  }

  /** Updates made so far (including those before a restore). */
  public long updates() {
    return updates;
  }

  /** The decay rule. */
  public Decay decay() {
    return decay;
  }

  /** The averaged arrays, read-only view (owned by this object). */
  public Map<String, NDArray> averages() {
    return Collections.unmodifiableMap(shadow);
  }

  /** Copies the averages into {@code targets} (e.g. a model's parameters, for sampling). */
  public void copyTo(Map<String, NDArray> targets) {
    shadow.forEach((k, v) -> {
      NDArray t = targets.get(k);
      if (t == null) {
        throw new IllegalArgumentException("no target for EMA parameter '" + k + "'");
      }
      v.copyTo(t);
    });
  }

  /** Host copies of the averages, for a checkpoint. */
  public Map<String, Tensor> state() {
    return Safetensors.toTensors(shadow);
  }

  @Override
  public void close() {
    manager.close();
  }
}
