package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.diffusion4j.process.Processes;
import org.diffusion4j.train.data.DataOptions;
import org.diffusion4j.train.data.DataSource;
import org.diffusion4j.train.data.DataSources;
import org.diffusion4j.train.loop.AdamW;
import org.diffusion4j.train.loop.GradientClipping;
import org.diffusion4j.train.loop.LrSchedule;
import org.diffusion4j.train.loop.StepContext;
import org.diffusion4j.train.loop.Trainer;
import org.diffusion4j.train.loss.DenoisingLoss;
import org.diffusion4j.train.loss.Objective;
import org.diffusion4j.train.nn.NetworkDenoiser;
import org.diffusion4j.train.nn.UNetConfig;

/**
 * Determinism probe for the README MNIST U-Net: every step computes the loss and gradients twice from
 * the same state and the same draws, compares them bit for bit, and names every parameter whose
 * gradient differs between the two passes (with both norms), then takes the step with the second
 * pass. A step whose two passes differ is a nondeterministic forward or backward.
 *
 * <p>Usage: {@code bin/bench twin [--steps N] [--threads T] [--from K]}.
 */
public final class UNetTwinCheck {
  private UNetTwinCheck() {}

  public static void main(String[] args) throws Exception {
    int steps = Integer.parseInt(option(args, "--steps", "400"));
    int batch = Integer.parseInt(option(args, "--batch", "64"));
    String threads = option(args, "--threads", "2");
    boolean frozen = option(args, "--frozen", "false").equals("true");
    boolean digest = option(args, "--digest", "false").equals("true");
    boolean perParam = option(args, "--per-param", "false").equals("true");
    System.setProperty("ai.djl.pytorch.num_threads", threads);
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    DataSource source = DataSources.parse(option(args, "--data", "mnist:../shared/data/mnist"),
        DataOptions.defaults());
    Objective objective = Objective.of("edm", Processes.byId("edm"), 0.62);
    LrSchedule lr = LrSchedule.cosine(1e-3, 100, 1150);
    System.out.printf(Locale.ROOT, "twin: %d steps × batch %d, %s threads, frozen %s%n", steps, batch, threads, frozen);
    try (NDManager root = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(0);
      UNetConfig d = UNetConfig.mnist();
      UNetConfig cfg = new UNetConfig(1, 28, 32, new int[] {1, 2, 2}, 1, new int[] {7}, 0, 0, d.heads(),
          d.embedding(), d.downsample());
      Block net = cfg.build();
      net.initialize(root, DataType.FLOAT32, new Shape(1, 1, 28, 28), new Shape(1));
      Map<String, NDArray> params = Trainer.parameters(net);
      NetworkDenoiser model = new NetworkDenoiser(net, objective.preconditioning());
      DenoisingLoss loss = new DenoisingLoss(objective);
      AdamW adam = AdamW.defaults();
      ParameterStore ps = new ParameterStore(root, false);
      Trainer.Batches data = Trainer.Batches.of(source, false);
      int events = 0;
      long t0 = System.nanoTime();
      for (int step = 0; step < steps; step++) {
        try (NDManager sm = root.newSubManager(); NDScope scope = new NDScope()) {
          double[] losses = new double[2];
          List<List<NDArray>> grads = new ArrayList<>();
          for (int pass = 0; pass < 2; pass++) {
            SplittableRandom rng = stepRng(0, step);
            Engine.getInstance().setRandomSeed((int) (rng.nextLong() & 0x7fffffff));
            DataSource.Batch b = data.next(sm, batch, rng);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray l = loss.compute(new StepContext(sm, rng, step, b, ps, Map.of(Trainer.MODEL, model), Map.of(),
                  n -> null)).loss();
              gc.backward(l);
              losses[pass] = l.toType(DataType.FLOAT64, false).getDouble();
            }
            List<NDArray> g = new ArrayList<>();
            for (NDArray p : params.values()) {
              g.add(p.getGradient().duplicate());
            }
            grads.add(g);
            if (pass == 0) {
              AdamW.zeroGradients(params);
            }
          }
          List<String> differing = new ArrayList<>();
          int i = 0;
          for (String name : params.keySet()) {
            NDArray a = grads.get(0).get(i);
            NDArray c = grads.get(1).get(i);
            boolean same = java.util.Arrays.equals(a.toByteArray(), c.toByteArray());
            if (!same) {
              double na = GradientClipping.globalNorm(List.of(a));
              double nc = GradientClipping.globalNorm(List.of(c));
              double md = a.sub(c).abs().max().getFloat();
              differing.add(String.format(Locale.ROOT, "%s (‖g1‖ %.4g, ‖g2‖ %.4g, max |Δ| %.3g)", name, na, nc, md));
            }
            i++;
          }
          if (digest) {
            StringBuilder sb = new StringBuilder();
            long all = 0;
            int j = 0;
            for (String name : params.keySet()) {
              long h = java.util.Arrays.hashCode(grads.get(1).get(j).toByteArray());
              all = all * 31 + h;
              if (perParam) {
                sb.append(String.format(Locale.ROOT, "    %-40s %016x%n", name, h));
              }
              j++;
            }
            System.out.printf(Locale.ROOT, "DIGEST step %d loss %.17g grads %016x%n%s", step, losses[1], all, sb);
          }
          List<NDArray> g = new ArrayList<>();
          params.values().forEach(p -> g.add(p.getGradient()));
          double norm = GradientClipping.clipGlobalNorm(g, 1.0);
          boolean lossSame = Double.doubleToLongBits(losses[0]) == Double.doubleToLongBits(losses[1]);
          if (!lossSame || !differing.isEmpty()) {
            events++;
            System.out.printf(Locale.ROOT, "STEP %d DIFFERS: loss %.17g vs %.17g; %d of %d gradients differ%n", step,
                losses[0], losses[1], differing.size(), params.size());
            differing.forEach(s -> System.out.println("    " + s));
          }
          if (step % 10 == 0 || !Double.isFinite(norm) || norm > 100) {
            System.out.printf(Locale.ROOT, "step %4d loss %.5f grad norm %.4g  %.1f s%n", step, losses[1], norm,
                (System.nanoTime() - t0) / 1e9);
          }
          if (!Double.isFinite(norm)) {
            System.out.println("non-finite gradient norm; first: " + GradientClipping.firstNonFinite(params));
            break;
          }
          if (!frozen) {
            adam.update(params, lr.at(step));
          }
          AdamW.zeroGradients(params);
        }
      }
      System.out.printf(Locale.ROOT, "done: %d of %d steps had differing passes%n", events, steps);
    }
  }

  static SplittableRandom stepRng(long seed, long step) {
    return new SplittableRandom(new SplittableRandom(seed).split().nextLong() ^ (step * 0x9E3779B97F4A7C15L));
  }

  private static String option(String[] args, String name, String def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }
}
