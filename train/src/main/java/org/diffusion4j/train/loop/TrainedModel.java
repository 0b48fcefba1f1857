package org.diffusion4j.train.loop;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.diffusion4j.train.nn.NetworkDenoiser;

/**
 * A trained run loaded for sampling: its config, the network with the chosen weights (EMA by default),
 * and the denoiser the preconditioning makes of it.
 */
public final class TrainedModel implements AutoCloseable {
  private final RunConfig config;
  private final NDManager manager;
  private final Block network;
  private final long step;

  private TrainedModel(RunConfig config, NDManager manager, Block network, long step) {
    this.config = config;
    this.manager = manager;
    this.network = network;
    this.step = step;
  }

  /** A new, initialised network of the config's shape, in {@code manager}. */
  public static Block newNetwork(RunConfig config, NDManager manager) {
    boolean two = org.diffusion4j.train.distill.FlowMapRuns.twoTime(config.objective());
    Block net = two && config.network() instanceof org.diffusion4j.train.nn.MlpConfig mlp
        ? new org.diffusion4j.train.nn.TwoTimeMlp(mlp)
        : two && config.network() instanceof org.diffusion4j.train.nn.UNetConfig unet
        ? new org.diffusion4j.train.nn.TwoTimeUNet(unet) : config.network().build();
    long[] x = new long[config.sampleShape().length + 1];
    x[0] = 1;
    System.arraycopy(config.sampleShape(), 0, x, 1, config.sampleShape().length);
    net.initialize(manager, DataType.FLOAT32, new Shape(x), new Shape(1));
    return net;
  }

  /**
   * Loads the run in {@code dir}.
   *
   * @param ema the EMA weights (true, the default for sampling) or the raw weights
   */
  public static TrainedModel load(Path dir, boolean ema) throws IOException {
    return load(dir, ema, null);
  }

  /**
   * Loads the run in {@code dir} with its weights on {@code device} (null: the engine's default device);
   * sample on the same device ({@code Sampling.device}).
   */
  public static TrainedModel load(Path dir, boolean ema, Device device) throws IOException {
    RunConfig config = readConfig(dir);
    NDManager m = org.diffusion4j.device.Devices.newManager(device);
    try {
      Block net = newNetwork(config, m);
      Map.Entry<Long, Map<String, Tensor>> w = Checkpoint.readWeightsWithStep(dir, ema);
      Trainer.loadInto(Trainer.parameters(net), w.getValue(),
          dir.resolve(ema ? Checkpoint.EMA : Checkpoint.WEIGHTS).toString());
      return new TrainedModel(config, m, net, w.getKey());
    } catch (RuntimeException | IOException e) {
      m.close();
      throw e;
    }
  }

  /** A run directory's configuration, read and checked, without loading weights. */
  public static RunConfig readConfig(Path dir) throws IOException {
    return RunConfig.fromJson(Checkpoint.readConfig(dir), dir.resolve(Checkpoint.CONFIG).toString());
  }

  /** The run's description. */
  public RunConfig config() {
    return config;
  }

  /** Optimiser steps the weights were trained for. */
  public long step() {
    return step;
  }

  /** The device the weights live on. */
  public Device device() {
    return manager.getDevice();
  }

  /** The network F. */
  public Block network() {
    return network;
  }

  /** F preconditioned into the frame's denoiser D(x̂; σ). */
  public NetworkDenoiser denoiser() {
    return new NetworkDenoiser(network, config.objectiveValue().preconditioning());
  }

  @Override
  public void close() {
    manager.close();
  }
}
