package org.diffusion4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Repeats single ops of the MNIST U-Net (forward and backward, batch 64) with fixed inputs and reports
 * any repetition whose outputs differ bit for bit from the first: a nondeterministic kernel.
 *
 * <p>Usage: {@code bin/bench hammer [--reps R] [--threads T] [--only NAME]}.
 */
public final class OpHammer {
  private OpHammer() {}

  record Case(String name, Shape[] inputs, Function<NDList, NDArray> op) {}

  public static void main(String[] args) {
    int reps = Integer.parseInt(option(args, "--reps", "200"));
    String threads = option(args, "--threads", "2");
    String only = option(args, "--only", "");
    System.setProperty("ai.djl.pytorch.num_threads", threads);
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    List<Case> cases = new ArrayList<>();
    int[][] convs = {{1, 32, 28, 3, 1}, {32, 32, 28, 3, 1}, {32, 32, 28, 3, 2}, {32, 64, 14, 3, 1}, {32, 64, 14, 1, 1},
        {64, 64, 14, 3, 1}, {64, 64, 14, 3, 2}, {64, 64, 7, 3, 1}, {64, 192, 7, 1, 1}, {64, 64, 7, 1, 1},
        {128, 64, 7, 3, 1}, {128, 64, 7, 1, 1}, {128, 64, 14, 3, 1}, {128, 64, 14, 1, 1}, {96, 64, 14, 3, 1},
        {96, 64, 14, 1, 1}, {64, 64, 28, 3, 1}, {64, 32, 28, 3, 1}, {64, 32, 28, 1, 1}, {96, 32, 28, 3, 1},
        {96, 32, 28, 1, 1}, {32, 1, 28, 3, 1}};
    for (int[] c : convs) {
      int ic = c[0];
      int oc = c[1];
      int h = c[2];
      int k = c[3];
      int s = c[4];
      cases.add(new Case(String.format(Locale.ROOT, "conv ic%d oc%d %dx%d k%d s%d", ic, oc, h, h, k, s),
          new Shape[] {new Shape(64, ic, h, h), new Shape(oc, ic, k, k), new Shape(oc)},
          in -> Conv2d.conv2d(in.get(0), in.get(1), in.get(2), new Shape(s, s), new Shape(k / 2, k / 2))
              .singletonOrThrow()));
    }
    Engine.getInstance().setRandomSeed(0);
    try (NDManager m = NDManager.newBaseManager()) {
      for (Case c : cases) {
        if (!only.isEmpty() && !c.name().contains(only)) {
          continue;
        }
        NDList in = new NDList();
        for (Shape s : c.inputs()) {
          NDArray a = m.randomNormal(s);
          a.setRequiresGradient(true);
          in.add(a);
        }
        long t0 = System.nanoTime();
        byte[][] ref = null;
        int bad = 0;
        for (int r = 0; r < reps; r++) {
          try (NDScope scope = new NDScope()) {
            byte[][] out = new byte[in.size() + 1][];
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray y = c.op().apply(in);
              Engine.getInstance().setRandomSeed(1);
              NDArray gout = m.randomNormal(0, 1, y.getShape(), DataType.FLOAT32);
              NDArray l = y.mul(gout).sum();
              gc.backward(l);
              out[0] = y.toByteArray();
            }
            for (int i = 0; i < in.size(); i++) {
              out[i + 1] = in.get(i).getGradient().toByteArray();
              in.get(i).getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0);
            }
            if (ref == null) {
              ref = out;
            } else {
              for (int i = 0; i < out.length; i++) {
                if (!Arrays.equals(ref[i], out[i])) {
                  bad++;
                  System.out.printf(Locale.ROOT, "  %s rep %d: %s differs%n", c.name(), r,
                      i == 0 ? "output" : "grad of input " + (i - 1));
                }
              }
            }
          }
        }
        System.out.printf(Locale.ROOT, "%-32s %d reps, %d differing, %.1f ms/rep%n", c.name(), reps, bad,
            (System.nanoTime() - t0) / 1e6 / reps);
        in.close();
      }
    }
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
