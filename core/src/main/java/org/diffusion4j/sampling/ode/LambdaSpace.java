package org.diffusion4j.sampling.ode;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.diffusion4j.denoiser.Denoiser;
import org.diffusion4j.process.NoiseProcess;
import org.diffusion4j.sampling.StepInfo;
import org.diffusion4j.sampling.StepListener;
import org.diffusion4j.sampling.StepScope;
import org.diffusion4j.schedule.Grid;

/**
 * Shared plumbing of the exponential integrators (DDIM, DEIS, DPM-Solver), which follow their papers'
 * λ/t formulation on the state x in process coordinates: {@code x_t = α_t x0 + σ_t ε}, half log-SNR
 * {@code λ = log(α_t/σ_t)}). A model call at a point gives the
 * x0-estimate {@code D(x/α; σ_t/α_t)} and the noise estimate {@code ε = (x − α x0)/σ_t}.
 */
final class LambdaSpace {
  private LambdaSpace() {}

  /**
   * A point of the solver's time axis.
   *
   * @param t the process time
   * @param alpha α_t = s(t)
   * @param sigma absolute noise std σ_t = s·σ
   * @param sigmaRel relative noise level σ_t/α_t (the denoiser's σ; DEIS's ρ)
   * @param lambda half log-SNR λ_t (+∞ at σ = 0)
   */
  record Point(double t, double alpha, double sigma, double sigmaRel, double lambda) {
    /** Whether this is the data end σ = 0 (λ = +∞). */
    boolean isData() {
      return sigmaRel == 0;
    }
  }

  /** Grid point i. */
  static Point at(Grid grid, int i) {
    return new Point(grid.t(i), grid.alpha(i), grid.sigmaAbs(i), grid.sigma(i), grid.lambda(i));
  }

  /** The point of {@code process} at half log-SNR λ (via {@code tOfLambda}). */
  static Point atLambda(NoiseProcess process, double lambda) {
    double t = process.tOfLambda(lambda);
    double alpha = process.s(t);
    double sigmaRel = Math.exp(-lambda);
    return new Point(t, alpha, alpha * sigmaRel, sigmaRel, lambda);
  }

  /** The model's two views of the state at a point: x0-estimate and noise estimate. */
  record Eval(NDArray x0, NDArray eps) {}

  /** One model call at point {@code p} (σ &gt; 0). */
  static Eval eval(Denoiser model, NDArray x, Point p) {
    NDArray x0 = model.denoise(x.div(p.alpha()), p.sigmaRel());
    NDArray eps = x.sub(x0.mul(p.alpha())).div(p.sigma());
    return new Eval(x0, eps);
  }

  /**
   * DPM-Solver-1 (= DDIM, = DEIS order 1) from s to t):
   * {@code x_t = (α_t/α_s) x_s − σ_t (e^h − 1) ε_s}, h = λ_t − λ_s; to σ = 0 it is {@code α_t·x0}.
   */
  static NDArray firstOrder(NDArray x, Eval e, Point s, Point t) {
    if (t.isData()) {
      // Last step: σ_next == 0, the limit of the update is the x0-estimate.
      return e.x0().mul(t.alpha());
    }
    double h = t.lambda() - s.lambda();
    return x.mul(t.alpha() / s.alpha()).sub(e.eps().mul(t.sigma() * Math.expm1(h)));
  }

  /** Tells the listener about a step from s to t; the state x is in process coordinates at t. */
  static void notify(StepListener listener, int step, int steps, Point s, Point t, NDArray x, NDArray denoised) {
    if (listener != StepListener.NONE) {
      try (StepScope scope = new StepScope()) {
        listener.onStep(new StepInfo(step, steps, s.sigmaRel(), t.sigmaRel(), t.alpha(), x.div(t.alpha()),
            denoised));
      }
    }
  }

  /** The last {@code capacity} noise estimates of a multistep method with their points, newest first. */
  static final class History implements AutoCloseable {
    private final int capacity;
    private final List<NDArray> eps = new ArrayList<>();
    private final List<Point> points = new ArrayList<>();

    History(int capacity) {
      this.capacity = capacity;
    }

    /** Adds ε at p (kept out of {@code step}) and drops, closing it, the oldest beyond capacity. */
    void push(StepScope step, NDArray e, Point p) {
      eps.add(0, step.keep(e));
      points.add(0, p);
      if (eps.size() > capacity) {
        eps.remove(capacity).close();
        points.remove(capacity);
      }
    }

    /** ε j steps back (0 = newest). */
    NDArray eps(int j) {
      return eps.get(j);
    }

    /** The point j steps back. */
    Point point(int j) {
      return points.get(j);
    }

    /** The newest k points. */
    List<Point> points(int k) {
      return points.subList(0, k);
    }

    @Override
    public void close() {
      eps.forEach(NDArray::close);
      eps.clear();
    }
  }
}
