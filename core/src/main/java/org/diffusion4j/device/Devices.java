package org.diffusion4j.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Device names as users write them ({@code cpu}, {@code gpu}, {@code gpu:1}) turned into DJL devices, checked
 * against what the engine can actually use, so a missing GPU is one clear error before any work instead of a
 * native failure in the middle of a run.
 */
public final class Devices {
  private Devices() {}

  private static volatile Device chosen;

  /**
   * Makes {@code device} the process's device: every manager the library creates without an explicit device
   * ({@link #newManager()}) lives there, so networks, data and sampling states follow (the CLI's
   * {@code --device}). Null restores the engine's default (DJL: the first GPU when its native library has CUDA
   * and a GPU is visible, else the CPU). Check the device first with {@link #parse}.
   */
  public static void use(Device device) {
    chosen = device;
  }

  /** The process's device: the one {@link #use} chose, else the engine's default. */
  public static Device current() {
    Device d = chosen;
    return d != null ? d : Engine.getInstance().defaultDevice();
  }

  /** A new base manager on {@link #current()}. */
  public static NDManager newManager() {
    return NDManager.newBaseManager(current());
  }

  /** A new base manager on {@code device}, or on {@link #current()} when it is null. */
  public static NDManager newManager(Device device) {
    return NDManager.newBaseManager(device != null ? device : current());
  }

  /** What {@link #parse} accepts. */
  public static final String ACCEPTED = "cpu, gpu, gpu:N";

  /**
   * The device {@code text} names, checked to be available.
   *
   * @throws IllegalArgumentException if the name is malformed or the device is not there
   */
  public static Device parse(String text) {
    Device d = syntax(text);
    requireAvailable(d, text);
    return d;
  }

  /**
   * The devices of {@code n} workers: {@code cpu} gives n CPU workers (core groups), {@code gpu} the first n
   * GPUs (one worker each), {@code gpu:i} one worker on GPU i (then n must be 1).
   */
  public static List<Device> forWorkers(String text, int n) {
    if (n < 1) {
      throw new IllegalArgumentException("--workers must be >= 1, got " + n);
    }
    Device d = syntax(text);
    List<Device> out = new ArrayList<>();
    if (!d.isGpu()) {
      for (int i = 0; i < n; i++) {
        out.add(d);
      }
      return out;
    }
    boolean indexed = text.trim().contains(":");
    if (indexed && n > 1) {
      throw new IllegalArgumentException("--device " + text + " names one GPU but --workers is " + n
          + "; use --device gpu to put one worker on each of the first " + n + " GPUs");
    }
    if (indexed) {
      requireAvailable(d, text);
      return List.of(d);
    }
    int have = gpuCount();
    if (have == 0) {
      requireAvailable(d, text);
    }
    if (n > have) {
      throw new IllegalArgumentException("--workers " + n + " on --device gpu needs " + n + " GPUs but PyTorch sees "
          + have + "; use --workers " + have + " or fewer");
    }
    for (int i = 0; i < n; i++) {
      out.add(Device.gpu(i));
    }
    return out;
  }

  /** GPUs the default engine can use (0 without a CUDA build of its native library or without a GPU). */
  public static int gpuCount() {
    Engine e = Engine.getInstance();
    return e.hasCapability(StandardCapabilities.CUDA) ? e.getGpuCount() : 0;
  }

  /**
   * The device a name denotes, without checking that it is there (a driver that only describes work for
   * other machines).
   */
  public static Device syntax(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("cpu")) {
      return Device.cpu();
    }
    if (t.equals("gpu")) {
      return Device.gpu(0);
    }
    if (t.startsWith("gpu:")) {
      try {
        int i = Integer.parseInt(t.substring(4));
        if (i >= 0) {
          return Device.gpu(i);
        }
      } catch (NumberFormatException e) {
        // falls through to the error below
      }
    }
    throw new IllegalArgumentException("unknown device '" + text + "'; accepted: " + ACCEPTED);
  }

  private static void requireAvailable(Device d, String text) {
    if (!d.isGpu()) {
      return;
    }
    Engine e = Engine.getInstance();
    int count = e.getGpuCount();
    if (count == 0) {
      throw new IllegalArgumentException("device " + text + ": no GPU visible to PyTorch (DJL engine reports 0 GPUs); "
          + "run on a machine with an NVIDIA GPU and a CUDA build of libtorch (build with -Pgpu, see the README's GPU "
          + "section) or use --device cpu");
    }
    if (!e.hasCapability(StandardCapabilities.CUDA)) {
      throw new IllegalArgumentException("device " + text + ": " + count + " GPU(s) present but the loaded PyTorch "
          + "native library is a CPU build; build with -Pgpu and set PYTORCH_LIBRARY_PATH to a CUDA libtorch "
          + e.getVersion() + " (see the README's GPU section)");
    }
    if (d.getDeviceId() >= count) {
      throw new IllegalArgumentException("device " + text + ": PyTorch sees " + count + " GPU(s), gpu:0–gpu:"
          + (count - 1));
    }
  }
}
